package session

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plexgate/plexgate/forwardauth/config"
)

// MaxCookieBytes is the largest session cookie (name=value) forwardauth writes.
const MaxCookieBytes = 3584

// Claims are the claims of a session token (docs/contract.md).
type Claims struct {
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

// Identity is what a login establishes about a user, before minting.
type Identity struct {
	Subject string
	Email   string
	Name    string
	Groups  []string
	AMR     []string
	ACR     string
	Headers map[string]string
}

// Sessions mints and verifies session tokens.
type Sessions struct {
	keys     *Keys
	issuer   string
	audience string
	maxAge   time.Duration
	cookie   string
	now      func() time.Time
	parser   *jwt.Parser
}

// NewSessions returns the minter and verifier of session tokens signed with
// keys, issued by issuer, with cfg's audience, lifetime (max_age), leeway and
// cookie name (which bounds the token's size). now nil means time.Now.
func NewSessions(keys *Keys, cfg config.SessionConfig, issuer string, now func() time.Time) *Sessions {
	if now == nil {
		now = time.Now
	}
	s := &Sessions{keys: keys, issuer: issuer, audience: cfg.Audience, maxAge: cfg.MaxAge, cookie: cfg.CookieName, now: now}
	s.parser = jwt.NewParser(
		jwt.WithValidMethods(keys.methods),
		jwt.WithAudience(cfg.Audience),
		jwt.WithIssuer(issuer),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
	)
	return s
}

// Issuer is the iss of the tokens minted and accepted.
func (s *Sessions) Issuer() string { return s.issuer }

// ErrTooLarge is returned (wrapped) when a session would not fit in a cookie.
var ErrTooLarge = errors.New("session: token too large for a cookie")

// Mint signs a session token for id; it refuses tokens whose cookie would
// exceed MaxCookieBytes and names the largest claims.
func (s *Sessions) Mint(id Identity) (string, error) {
	now := s.now()
	c := Claims{
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
	if n := len(s.cookie) + 1 + len(raw); n > MaxCookieBytes {
		return "", fmt.Errorf("%w: %d bytes, limit %d; drop or shorten the largest claims: %s",
			ErrTooLarge, n, MaxCookieBytes, largestClaims(c))
	}
	return raw, nil
}

// largestClaims names the three biggest claims with their JSON sizes.
func largestClaims(c Claims) string {
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
func (c Claims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{c.Aud}, nil
}

// Verify checks that raw is a valid session token as docs/contract.md
// defines it ("Valid session token"): its encoding, header and claim names
// and types (checkRaw), then signature, kid, alg, typ, iss, aud and times.
func (s *Sessions) Verify(raw string) (*Claims, error) {
	if err := checkRaw(raw, sessionClaims); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	var c Claims
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
