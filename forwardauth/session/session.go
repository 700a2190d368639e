package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxCookieBytes is the largest session cookie (name=value) forwardauth writes.
const maxCookieBytes = 3584

// sessionClaims are the claims of a session token (docs/contract.md).
type sessionClaims struct {
	jwt.RegisteredClaims
	// Aud replaces RegisteredClaims.Audience so that aud is a JSON string,
	// as the contract says, rather than an array.
	Aud    string            `json:"aud"`
	SID    string            `json:"sid"`
	Email  string            `json:"email,omitempty"`
	Name   string            `json:"name,omitempty"`
	Groups []string          `json:"groups,omitempty"`
	AMR    []string          `json:"amr,omitempty"`
	ACR    string            `json:"acr,omitempty"`
	Hdr    map[string]string `json:"hdr"`
}

// identity is what a login establishes about a user, before minting.
type identity struct {
	Subject string
	Email   string
	Name    string
	Groups  []string
	AMR     []string
	ACR     string
	Headers map[string]string
}

// sessions mints and verifies session tokens.
type sessions struct {
	keys     *keySet
	issuer   string
	audience string
	maxAge   time.Duration
	cookie   string
	now      func() time.Time
	parser   *jwt.Parser
}

func newSessions(keys *keySet, cfg SessionConfig, issuer string, now func() time.Time) *sessions {
	s := &sessions{keys: keys, issuer: issuer, audience: cfg.Audience, maxAge: cfg.MaxAge, cookie: cfg.CookieName, now: now}
	s.parser = jwt.NewParser(
		jwt.WithValidMethods(keys.methods),
		jwt.WithAudience(cfg.Audience),
		jwt.WithIssuer(issuer),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	return s
}

// errTooLarge is returned (wrapped) when a session would not fit in a cookie.
var errTooLarge = errors.New("session: token too large for a cookie")

// mint signs a session token for id; it refuses tokens whose cookie would
// exceed maxCookieBytes and names the largest claims.
func (s *sessions) mint(id identity) (string, error) {
	now := s.now()
	c := sessionClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Subject:   id.Subject,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.maxAge)),
		},
		Aud: s.audience, SID: randomID(16), Email: id.Email, Name: id.Name,
		Groups: id.Groups, AMR: id.AMR, ACR: id.ACR, Hdr: id.Headers,
	}
	tok := jwt.NewWithClaims(s.keys.signMethod, c)
	tok.Header["kid"] = s.keys.signKID
	raw, err := tok.SignedString(s.keys.signKey)
	if err != nil {
		return "", fmt.Errorf("session: sign: %w", err)
	}
	if n := len(s.cookie) + 1 + len(raw); n > maxCookieBytes {
		return "", fmt.Errorf("%w: %d bytes, limit %d; drop or shorten the largest claims: %s",
			errTooLarge, n, maxCookieBytes, largestClaims(c))
	}
	return raw, nil
}

// largestClaims names the three biggest claims with their JSON sizes.
func largestClaims(c sessionClaims) string {
	data, _ := json.Marshal(c) // built from plain values: cannot fail
	var m map[string]json.RawMessage
	_ = json.Unmarshal(data, &m)
	type sized struct {
		name string
		n    int
	}
	var all []sized
	for k, v := range m {
		all = append(all, sized{k, len(v)})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || all[i].n == all[j].n && all[i].name < all[j].name })
	var parts []string
	for i := 0; i < len(all) && i < 3; i++ {
		parts = append(parts, fmt.Sprintf("%s (%d bytes)", all[i].name, all[i].n))
	}
	return strings.Join(parts, ", ")
}

// GetAudience returns the single audience for jwt/v5's validation.
func (c sessionClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{c.Aud}, nil
}

// verify checks a session token's signature, kid, alg, typ, iss, aud and times.
func (s *sessions) verify(raw string) (*sessionClaims, error) {
	var c sessionClaims
	tok, err := s.parser.ParseWithClaims(raw, &c, s.keys.keyFunc)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	if typ, _ := tok.Header["typ"].(string); typ != "JWT" {
		return nil, errors.New("session: wrong token type")
	}
	if c.Subject == "" || c.SID == "" {
		return nil, errors.New("session: missing sub or sid")
	}
	return &c, nil
}

// randomID returns n random bytes, base64url.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b64(b)
}
