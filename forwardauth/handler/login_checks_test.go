package handler

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plexgate/plexgate/forwardauth/config"
)

// The login checks below each have a test that fails when the check is
// removed (SECURITY.md, "Which test guards which check").

// atHash is OIDC Core 3.1.3.6's at_hash for an RS256 ID token.
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// The state cookie is looked up by the state parameter, and the state
// inside the signed cookie must then equal the parameter: a valid state
// cookie of one sign-in, planted under another state's name, is refused.
func TestStateCookieOfAnotherStateIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	authURL, state := e.startLogin(site)
	cb := e.authorize(authURL)
	other := strings.Repeat("B", 32)
	q := cb.Query()
	q.Set("state", other)
	cb.RawQuery = q.Encode()
	planted := &http.Cookie{Name: "plexgate_session_login_" + other, Value: state.Value}
	resp := e.get(cb.String(), planted)
	if resp.StatusCode != http.StatusBadRequest || cookieNamed(resp, "plexgate_session") != nil {
		t.Fatalf("status %d, want 400 and no session: %s", resp.StatusCode, body(resp))
	}
}

func TestIDTokenAtHashIsChecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		hash func(string) string
		ok   bool
	}{
		{"matching at_hash", atHash, true},
		{"at_hash of another access token", func(string) string { return atHash("at-other") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.idp.set(func(p *testIDP) { p.atHash = tc.hash })
			resp := e.login(site)
			got := resp.StatusCode == http.StatusFound && cookieNamed(resp, "plexgate_session") != nil
			if got != tc.ok {
				t.Fatalf("status %d, session %v; want signed in = %v: %s", resp.StatusCode, got, tc.ok, body(resp))
			}
		})
	}
}

func TestUserinfoOfAnotherSubjectIsRefused(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.OIDC.UseUserinfo = true })
	e.idp.set(func(p *testIDP) { p.userinfo = map[string]any{"sub": "00u-mallory", "email": "mallory@example.com"} })
	resp := e.login(site)
	if resp.StatusCode == http.StatusFound || cookieNamed(resp, "plexgate_session") != nil {
		t.Fatalf("status %d: a userinfo answer for another subject was merged", resp.StatusCode)
	}
}

// userinfo cannot add the second factor the ID token lacks: amr (and the
// other protected claims) come from the ID token only.
func TestUserinfoCannotOverrideProtectedClaims(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.OIDC.UseUserinfo = true
		c.Authz.RequireMFA = true
	})
	e.idp.set(func(p *testIDP) {
		p.claims["amr"] = []string{"pwd"}
		p.userinfo = map[string]any{"amr": []string{"pwd", "mfa"}, "acr": "urn:mfa", "locale": "en-US"}
	})
	resp := e.login(site)
	if resp.StatusCode != http.StatusForbidden || cookieNamed(resp, "plexgate_session") != nil {
		t.Fatalf("status %d, want 403 without session: userinfo's amr was used", resp.StatusCode)
	}
}

// The ID-token hint cookie holds the raw ID token: Secure, HttpOnly and
// sent to /logout only, like the session cookie.
func TestIDTokenHintCookieIsSecure(t *testing.T) {
	e := newEnv(t, nil)
	resp := e.login(site)
	hint := cookieNamed(resp, "plexgate_session_idt")
	if hint == nil {
		t.Fatal("no ID-token hint cookie")
	}
	u, _ := url.Parse("https://auth.example.com/logout")
	if !hint.Secure || !hint.HttpOnly || hint.Path != u.Path {
		t.Fatalf("hint cookie Secure=%v HttpOnly=%v Path=%q", hint.Secure, hint.HttpOnly, hint.Path)
	}
}
