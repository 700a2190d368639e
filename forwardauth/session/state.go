package main

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// stateTTL bounds a login attempt: the state cookie expires after it.
const stateTTL = 10 * time.Minute

// stateTyp is the JWT typ of login-state tokens; together with the distinct
// audience it keeps a state token from ever passing as a session.
const stateTyp = "plexgate-login-state"

// loginState is what /login remembers for /auth, in a signed cookie whose
// name carries the state value (one cookie per attempt, so tabs do not clash).
type loginState struct {
	jwt.RegisteredClaims
	State    string `json:"st"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"pkce"`
	Return   string `json:"rd"`
}

// states mints and checks login-state tokens and remembers used states.
type states struct {
	keys     *keySet
	issuer   string
	audience string
	now      func() time.Time
	parser   *jwt.Parser

	used *usedStates // consumed states, so a replay fails even with the cookie
}

func newStates(keys *keySet, issuer, sessionAudience string, now func() time.Time) *states {
	aud := sessionAudience + "/login-state"
	return &states{
		keys: keys, issuer: issuer, audience: aud, now: now, used: newUsedStates(maxUsedStates),
		parser: jwt.NewParser(jwt.WithValidMethods(keys.methods), jwt.WithAudience(aud),
			jwt.WithIssuer(issuer), jwt.WithTimeFunc(now), jwt.WithExpirationRequired()),
	}
}

// cookieName is the state cookie's name for a state value.
func (st *states) cookieName(prefix, state string) string { return prefix + "_login_" + state }

// mint returns a new login state for rd and its signed token.
func (st *states) mint(rd, verifier string) (loginState, string, error) {
	now := st.now()
	ls := loginState{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: st.issuer, Audience: jwt.ClaimStrings{st.audience},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(stateTTL)),
		},
		State: randomID(24), Nonce: randomID(24), Verifier: verifier, Return: rd,
	}
	tok := jwt.NewWithClaims(st.keys.signMethod, ls)
	tok.Header["typ"] = stateTyp
	tok.Header["kid"] = st.keys.signKID
	raw, err := tok.SignedString(st.keys.signKey)
	if err != nil {
		return ls, "", fmt.Errorf("state: sign: %w", err)
	}
	return ls, raw, nil
}

// errStateUsed reports a replayed login state.
var errStateUsed = errors.New("state: already used")

// consume verifies the state token against the state query value and marks
// it used; a second call with the same state fails.
func (st *states) consume(raw, state string) (*loginState, error) {
	var ls loginState
	tok, err := st.parser.ParseWithClaims(raw, &ls, st.keys.keyFunc)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if typ, _ := tok.Header["typ"].(string); typ != stateTyp {
		return nil, errors.New("state: wrong token type")
	}
	if subtle.ConstantTimeCompare([]byte(ls.State), []byte(state)) != 1 {
		return nil, errors.New("state: mismatch")
	}
	if !st.used.add(state, ls.ExpiresAt.Time, st.now()) {
		return nil, errStateUsed
	}
	return &ls, nil
}
