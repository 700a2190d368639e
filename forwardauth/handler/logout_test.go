package handler

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plexgate/plexgate/forwardauth/config"
)

func TestLogout(t *testing.T) {
	tests := []struct {
		name       string
		endSession bool
		withHint   bool
		rd         string
		status     int
		wantLoc    func(e *env) string
	}{
		{"rp-initiated logout with rd", true, true, site, http.StatusFound, func(e *env) string { return e.idp.issuer() + "/v1/logout" }},
		{"no id token known", true, false, site, http.StatusFound, func(*env) string { return site }},
		{"end_session off", false, true, site, http.StatusFound, func(*env) string { return site }},
		{"no rd", false, false, "", http.StatusFound, func(*env) string { return "https://auth.example.com/signed-out" }},
		{"bad rd", true, true, "https://evil.com/", http.StatusBadRequest, func(*env) string { return "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) { c.OIDC.EndSession = tt.endSession })
			resp := e.login(site)
			cookies := []*http.Cookie{cookieNamed(resp, "plexgate_session")}
			hint := cookieNamed(resp, "plexgate_session_idt")
			if hint == nil || hint.Path != "/logout" || hint.Domain != "" || !hint.HttpOnly {
				t.Fatalf("id token cookie: %+v", hint)
			}
			if tt.withHint {
				cookies = append(cookies, hint)
			}
			target := "https://auth.example.com/logout"
			if tt.rd != "" {
				target += "?rd=" + url.QueryEscape(tt.rd)
			}
			out := e.get(target, cookies...)
			if out.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", out.StatusCode, tt.status)
			}
			if tt.status != http.StatusFound {
				return
			}
			loc, _ := url.Parse(out.Header.Get("Location"))
			if base := loc.Scheme + "://" + loc.Host + loc.Path; base != tt.wantLoc(e) && loc.String() != tt.wantLoc(e) {
				t.Fatalf("Location %s, want %s", loc, tt.wantLoc(e))
			}
			if loc.Query().Get("id_token_hint") != "" && (loc.Query().Get("id_token_hint") != hint.Value || loc.Query().Get("post_logout_redirect_uri") != site) {
				t.Errorf("end_session query %v", loc.Query())
			}
			c := cookieNamed(out, "plexgate_session")
			if c == nil || c.MaxAge >= 0 || c.Domain != "example.com" || c.Path != "/" {
				t.Errorf("session cookie not cleared on its domain/path: %+v", c)
			}
			if v := e.validate(site, nil); v.StatusCode != http.StatusFound {
				t.Errorf("validate without cookie after logout: %d", v.StatusCode)
			}
		})
	}
}

func TestStatusPages(t *testing.T) {
	e := newEnv(t, nil)
	c := e.session()
	tests := []struct {
		name, target string
		cookie       *http.Cookie
		want         string
	}{
		{"home signed in", "https://auth.example.com/", c, "You are signed in."},
		{"home signed out", "https://auth.example.com/", nil, "You are not signed in."},
		{"signed out page", "https://auth.example.com/signed-out", nil, "You are signed out."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cookies []*http.Cookie
			if tt.cookie != nil {
				cookies = append(cookies, tt.cookie)
			}
			resp := e.get(tt.target, cookies...)
			if page := body(resp); resp.StatusCode != http.StatusOK || !strings.Contains(page, tt.want) {
				t.Fatalf("status %d page %q", resp.StatusCode, page)
			}
		})
	}
}
