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
	Aud string `json:"aud"`
	// AuthTime is the sign-in, kept across refreshes; MaxAge counts from it.
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
	// RefreshAt is the refresh point, "rat": IssuedAt + RefreshAfter.
	RefreshAt *jwt.NumericDate  `json:"rat,omitempty"`
	SID       string            `json:"sid"`
	Email     string            `json:"email,omitempty"`
	Name      string            `json:"name,omitempty"`
	Groups    []string          `json:"groups,omitempty"`
	AMR       []string          `json:"amr,omitempty"`
	ACR       string            `json:"acr,omitempty"`
	Hdr       map[string]string `json:"hdr"`
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
	keys         *Keys
	issuer       string
	audience     string
	maxAge       time.Duration
	refreshAfter time.Duration
	leeway       time.Duration
	cookie       string
	now          func() time.Time
	parser       *jwt.Parser
}

// NewSessions returns the minter and verifier of session tokens signed with
// keys, issued by issuer, with cfg's audience, lifetimes (max_age,
// refresh_after), leeway and cookie name (which bounds the token's size).
// now nil means time.Now.
func NewSessions(keys *Keys, cfg config.SessionConfig, issuer string, now func() time.Time) *Sessions {
	if now == nil {
		now = time.Now
	}
	s := &Sessions{keys: keys, issuer: issuer, audience: cfg.Audience, maxAge: cfg.MaxAge,
		refreshAfter: cfg.RefreshAfter, leeway: cfg.Leeway, cookie: cfg.CookieName, now: now}
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

// Mint signs a session token for id, signed in now; it refuses tokens whose
// cookie would exceed MaxCookieBytes and names the largest claims.
func (s *Sessions) Mint(id Identity) (string, error) {
	now := s.now()
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Subject:   id.Subject,
			ExpiresAt: jwt.NewNumericDate(now.Add(s.maxAge)),
		},
		AuthTime: jwt.NewNumericDate(now),
		Aud:      s.audience, SID: randomID(16), Email: id.Email, Name: id.Name,
		Groups: id.Groups, AMR: id.AMR, ACR: id.ACR, Hdr: id.Headers,
	}
	return s.sign(c, now)
}

// Refresh signs the successor of the verified token c: the same session
// (sid, subject, sign-in, claims, exp) with a new iat, nbf and refresh point.
func (s *Sessions) Refresh(c *Claims) (string, error) {
	next := *c
	signedIn := s.SignedIn(c)
	next.Issuer = s.issuer
	next.AuthTime = jwt.NewNumericDate(signedIn)
	if end := signedIn.Add(s.maxAge); end.Before(c.ExpiresAt.Time) {
		next.ExpiresAt = jwt.NewNumericDate(end) // max_age was lowered since
	}
	return s.sign(next, s.now())
}

// sign dates c at now (iat, nbf, rat) and signs it.
func (s *Sessions) sign(c Claims, now time.Time) (string, error) {
	c.IssuedAt = jwt.NewNumericDate(now)
	c.NotBefore = jwt.NewNumericDate(now)
	c.RefreshAt = jwt.NewNumericDate(now.Add(s.refreshAfter))
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

// SignedIn is the sign-in time of a verified token: auth_time, or iat for a
// token minted before auth_time existed (it was never refreshed).
func (s *Sessions) SignedIn(c *Claims) time.Time {
	if c.AuthTime != nil {
		return c.AuthTime.Time
	}
	return c.IssuedAt.Time
}

// Due reports whether a verified token is past its refresh point, taken
// early by the leeway (at most half of refresh_after), so that a plugin whose
// clock is ahead by less than that never delegates a token forwardauth does
// not refresh (docs/contract.md). A token without rat was minted before
// refresh points existed: its point is iat + refresh_after.
func (s *Sessions) Due(c *Claims) bool {
	at := c.IssuedAt.Add(s.refreshAfter)
	if c.RefreshAt != nil {
		at = c.RefreshAt.Time
	}
	return !s.now().Before(at.Add(-min(s.leeway, s.refreshAfter/2)))
}

// Expired reports whether the session is past max_age counted from its
// sign-in, as configured now (a lowered max_age applies to live sessions).
func (s *Sessions) Expired(c *Claims) bool {
	return !s.now().Before(s.SignedIn(c).Add(s.maxAge).Add(s.leeway))
}

// randomID returns n random bytes, base64url.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b64(b)
}
