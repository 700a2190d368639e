package handler

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/session"
)

func TestValidateAnswersPerContract(t *testing.T) {
	e := newEnv(t, nil)
	good := e.session()
	login := "https://auth.example.com/login?rd=" + url.QueryEscape(site)
	tests := []struct {
		name     string
		orig     string
		headers  map[string]string
		cookie   bool
		status   int
		location string
	}{
		{"valid cookie", site, nil, true, http.StatusOK, ""},
		{"valid bearer", site, map[string]string{"Authorization": "Bearer " + good.Value}, false, http.StatusOK, ""},
		{"navigation without session", site, nil, false, http.StatusFound, login},
		{"xhr without session", site, map[string]string{"X-Requested-With": "XMLHttpRequest"}, false, http.StatusUnauthorized, ""},
		{"json api without session", site, map[string]string{"Accept": "application/json"}, false, http.StatusUnauthorized, ""},
		{"post without session", site, map[string]string{"X-Forwarded-Method": "POST"}, false, http.StatusUnauthorized, ""},
		{"garbage cookie", site, map[string]string{"Cookie": "plexgate_session=not.a.token"}, false, http.StatusFound, login},
		{"garbage bearer", site, map[string]string{"Authorization": "Bearer x.y.z"}, false, http.StatusUnauthorized, ""},
		{"foreign host", "https://evil.com/", nil, true, http.StatusBadRequest, ""},
		{"look-alike host", "https://example.com.evil.com/", nil, true, http.StatusBadRequest, ""},
		{"bad proto", site, map[string]string{"X-Forwarded-Proto": "javascript"}, true, http.StatusBadRequest, ""},
		{"plex port 32400", "https://plex.example.com:32400/identity", nil, true, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cookies []*http.Cookie
			if tt.cookie {
				cookies = append(cookies, good)
			}
			resp := e.validate(tt.orig, tt.headers, cookies...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.location != "" && resp.Header.Get("Location") != tt.location {
				t.Errorf("Location %q, want %q", resp.Header.Get("Location"), tt.location)
			}
			if tt.status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != `Bearer realm="plexgate"` {
				t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
			if tt.status != http.StatusOK && resp.Header.Get("X-Forwarded-User") != "" {
				t.Error("identity header on a refusal")
			}
		})
	}
}

func TestExpiredSessionRedirectsToLogin(t *testing.T) {
	e := newEnv(t, nil)
	c := e.session()
	if resp := e.validate(site, nil, c); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh: %d", resp.StatusCode)
	}
	e.clock.advance(e.cfg.Session.MaxAge + e.cfg.Session.Leeway + time.Second)
	if resp := e.validate(site, nil, c); resp.StatusCode != http.StatusFound {
		t.Fatalf("expired (cached before): %d, want 302", resp.StatusCode)
	}
}

func TestSessionFromAnotherAudienceOrIssuerIsRejected(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*config.Config)
	}{
		{"audience", func(c *config.Config) { c.Session.Audience = "other-app" }},
		{"issuer", func(c *config.Config) { c.Session.Issuer = "https://other.example.com" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			other := e.cfg
			tt.mutate(&other)
			minter := e.server(other)
			tok, err := minter.sessions.Mint(session.Identity{Subject: "00u-alice", Groups: []string{"plex-users"}})
			if err != nil {
				t.Fatal(err)
			}
			resp := e.validate(site, map[string]string{"Accept": "application/json"}, &http.Cookie{Name: "plexgate_session", Value: tok})
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
		})
	}
}

func TestLoginStateTokenCannotPassAsSession(t *testing.T) {
	e := newEnv(t, nil)
	_, state := e.startLogin(site)
	resp := e.validate(site, nil, &http.Cookie{Name: "plexgate_session", Value: state.Value})
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302", resp.StatusCode)
	}
}

func TestValidateReappliesCurrentRules(t *testing.T) {
	e := newEnv(t, nil)
	c := e.session()
	stricter := e.cfg
	stricter.Authz.Groups = []string{"admins"}
	e.srv = e.server(stricter)
	if resp := e.validate(site, nil, c); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", resp.StatusCode)
	}
	mfa := e.cfg
	mfa.Authz.RequireMFA = true
	e.idp.set(func(p *testIDP) { p.claims["amr"] = []string{"pwd"} })
	e.srv = e.server(e.cfg)
	c = e.session()
	e.srv = e.server(mfa)
	if resp := e.validate(site, map[string]string{"X-Requested-With": "XMLHttpRequest"}, c); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("without mfa, XHR: status %d, want 403", resp.StatusCode)
	}
	// A browser is sent to sign in again, with a second factor this time.
	if resp := e.validate(site, nil, c); resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "https://auth.example.com/login?rd=") {
		t.Fatalf("without mfa, navigation: status %d, Location %q; want 302 to the login", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestClaimHeadersFollowConfig(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.Headers.UserClaim = "name"
		c.Headers.Claims = map[string]string{"given_name": "X-Given-Name", "groups": "X-Vouch-Idp-Claims-Groups"}
	})
	e.idp.set(func(p *testIDP) {
		p.claims["given_name"] = "Al\r\nX-Injected: 1"
		p.claims["groups"] = []string{"plex-users", "admins"}
	})
	resp := e.validate(site, nil, e.session())
	want := map[string]string{"X-Forwarded-User": "Alice", "X-Given-Name": "AlX-Injected: 1", "X-Vouch-Idp-Claims-Groups": "plex-users,admins", "X-Forwarded-Groups": "plex-users,admins"}
	for k, w := range want {
		if got := resp.Header.Get(k); got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
	if resp.Header.Get("X-Injected") != "" {
		t.Error("header injection")
	}
}

func TestUserHeaderFallsBackToSubject(t *testing.T) {
	e := newEnv(t, nil)
	e.idp.set(func(p *testIDP) { delete(p.claims, "email") })
	resp := e.validate(site, nil, e.session())
	if got := resp.Header.Get("X-Forwarded-User"); got != "00u-alice" {
		t.Fatalf("X-Forwarded-User = %q", got)
	}
}

func TestValidateCachesVerifiedTokens(t *testing.T) {
	e := newEnv(t, nil)
	c := e.session()
	for i := 0; i < 3; i++ {
		e.validate(site, nil, c)
	}
	if n := e.srv.cache.len(); n != 1 {
		t.Fatalf("cache holds %d tokens, want 1", n)
	}
}

func TestMetricsCountValidateResults(t *testing.T) {
	e := newEnv(t, nil)
	c := e.session()
	e.validate(site, nil, c)
	e.validate(site, map[string]string{"X-Requested-With": "x"})
	e.validate("https://evil.com/", nil)
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	text, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`plexgate_validate_requests_total{result="allowed"} 1`,
		`plexgate_validate_requests_total{result="unauthorized"} 1`,
		`plexgate_validate_requests_total{result="bad_request"} 1`,
		`plexgate_logins_total{result="success"} 1`,
		`plexgate_request_duration_seconds_bucket{handler="validate"`,
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// /validate answers with the hdr members the plugin would take (a valid
// header name in canonical form, a value without CR, LF or NUL) and drops
// the others: a case variant must not overwrite the canonical name, and a
// name that is not a header name must not reach net/http.
func TestValidateDropsHdrNamesThatAreNotCanonicalHeaderNames(t *testing.T) {
	e := newEnv(t, nil)
	f := newForger(t, e)
	hdr := map[string]string{
		"X-Forwarded-User": "alice@example.com", "x-forwarded-user": "mallory", "X-FORWARDED-USER": "mallory",
		"Bad Name": "x", "X-Bad:Colon": "x", "": "x", "X-Ok": "ok", "X-Bad-Value": "a\r\nX-Injected: 1", "X-Nul": "a\x00",
	}
	tok := f.ed(f.header(), with(f.claims(), "hdr", hdr), f.priv)
	for i := 0; i < 10; i++ { // hdr is a map: each answer walks it in a new order
		resp := e.validate(site, nil, &http.Cookie{Name: "plexgate_session", Value: tok})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if got := resp.Header.Values("X-Forwarded-User"); len(got) != 1 || got[0] != "alice@example.com" {
			t.Fatalf("X-Forwarded-User = %q, want only the canonical member's value", got)
		}
		if resp.Header.Get("X-Ok") != "ok" {
			t.Fatalf("X-Ok = %q", resp.Header.Get("X-Ok"))
		}
		for name := range resp.Header {
			if textproto.CanonicalMIMEHeaderKey(name) != name || strings.ContainsAny(name, " :") || name == "" ||
				name == "X-Bad-Value" || name == "X-Nul" || name == "X-Injected" {
				t.Fatalf("%q reached the answer", name)
			}
		}
	}
}
