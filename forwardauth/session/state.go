package session

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// StateTTL bounds a login attempt: the state cookie expires after it.
const StateTTL = 10 * time.Minute

// StateType is the JWT typ of login-state tokens; together with the distinct
// audience it keeps a state token from ever passing as a session.
const StateType = "plexgate-login-state"

// LoginState is what /login remembers for /auth, in a signed cookie whose
// name carries the state value (one cookie per attempt, so tabs do not clash).
type LoginState struct {
	jwt.RegisteredClaims
	// Aud replaces RegisteredClaims.Audience so that aud is a JSON string,
	// as for sessions (docs/contract.md).
	Aud      string `json:"aud"`
	State    string `json:"st"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"pkce"`
	Return   string `json:"rd"`
}

// States mints and checks login-state tokens. It keeps no state: replays
// are caught by the caller's used-state set (login.UsedStates).
type States struct {
	keys     *Keys
	issuer   string
	audience string
	now      func() time.Time
	parser   *jwt.Parser
	leeway   time.Duration // for iat
}

// NewStates returns the minter and checker of login-state tokens signed
// with keys; their audience is sessionAudience + "/login-state", so that a
// state token never passes as a session. leeway is the clock skew allowed
// for iat (session.leeway: a state minted by one replica may be checked by
// another); exp, StateTTL after iat, has none. now nil means time.Now.
func NewStates(keys *Keys, issuer, sessionAudience string, leeway time.Duration, now func() time.Time) *States {
	if now == nil {
		now = time.Now
	}
	aud := sessionAudience + "/login-state"
	return &States{
		keys: keys, issuer: issuer, audience: aud, now: now,
		parser: jwt.NewParser(jwt.WithValidMethods(keys.methods), jwt.WithAudience(aud),
			jwt.WithIssuer(issuer), jwt.WithTimeFunc(now), jwt.WithExpirationRequired(),
			jwt.WithStrictDecoding()),
		leeway: leeway,
	}
}

// CookieName is the state cookie's name for a state value.
func (st *States) CookieName(prefix, state string) string { return prefix + "_login_" + state }

// Mint returns a new login state for rd and its signed token.
func (st *States) Mint(rd, verifier string) (LoginState, string, error) {
	now := st.now()
	ls := LoginState{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:   st.issuer,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(StateTTL)),
		},
		Aud: st.audience, State: randomID(24), Nonce: randomID(24), Verifier: verifier, Return: rd,
	}
	tok := jwt.NewWithClaims(st.keys.signMethod, ls)
	tok.Header["typ"] = StateType
	tok.Header["kid"] = st.keys.signKID
	raw, err := tok.SignedString(st.keys.signKey)
	if err != nil {
		return ls, "", fmt.Errorf("state: sign: %w", err)
	}
	return ls, raw, nil
}

// GetAudience returns the single audience for jwt/v5's validation.
func (ls LoginState) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{ls.Aud}, nil
}

// Verify checks the state token against the state query value: a valid
// login-state token as docs/contract.md defines it, whose st equals state.
// It does not mark the state used: the caller's used-state set does.
func (st *States) Verify(raw, state string) (*LoginState, error) {
	if err := checkRaw(raw, stateClaims); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	var ls LoginState
	tok, err := st.parser.ParseWithClaims(raw, &ls, st.keys.keyFunc)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if typ, _ := tok.Header["typ"].(string); typ != StateType {
		return nil, errors.New("state: wrong token type")
	}
	if ls.IssuedAt.After(st.now().Add(st.leeway)) {
		return nil, errors.New("state: issued in the future")
	}
	if subtle.ConstantTimeCompare([]byte(ls.State), []byte(state)) != 1 {
		return nil, errors.New("state: mismatch")
	}
	return &ls, nil
}
