package handler

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/session"
)

func TestLoginSetsSessionCookieAndReturnsToSite(t *testing.T) {
	e := newEnv(t, nil)
	authURL, state := e.startLogin(site)
	q := authURL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Fatalf("authorize URL lacks PKCE/nonce/state: %s", authURL)
	}
	if q.Get("redirect_uri") != "https://auth.example.com/auth" {
		t.Errorf("redirect_uri = %q", q.Get("redirect_uri"))
	}
	if state.Path != "/auth" || !state.HttpOnly || !state.Secure || state.MaxAge != 600 || state.Domain != "" {
		t.Errorf("state cookie attributes: %+v", state)
	}
	resp := e.get(e.authorize(authURL).String(), state)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != site {
		t.Fatalf("callback: status %d location %q body %s", resp.StatusCode, resp.Header.Get("Location"), body(resp))
	}
	c := cookieNamed(resp, "plexgate_session")
	if c == nil || c.Domain != "example.com" || c.Path != "/" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 43200 {
		t.Fatalf("session cookie attributes: %+v", c)
	}
	if del := cookieNamed(resp, state.Name); del == nil || del.MaxAge >= 0 {
		t.Errorf("state cookie not deleted: %+v", del)
	}
	v := e.validate(site, nil, c)
	if v.StatusCode != http.StatusOK {
		t.Fatalf("validate: %d", v.StatusCode)
	}
	want := map[string]string{"X-Forwarded-User": "alice@example.com", "X-Forwarded-Email": "alice@example.com", "X-Forwarded-Groups": "plex-users"}
	for k, w := range want {
		if got := v.Header.Get(k); got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
}

func TestTwoTabsCanLogInAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	auth1, state1 := e.startLogin(site)
	auth2, state2 := e.startLogin("https://plex.example.com:32400/web")
	if state1.Name == state2.Name {
		t.Fatal("both attempts use the same state cookie")
	}
	r2 := e.get(e.authorize(auth2).String(), state1, state2)
	r1 := e.get(e.authorize(auth1).String(), state1, state2)
	if r1.StatusCode != http.StatusFound || r2.StatusCode != http.StatusFound {
		t.Fatalf("statuses %d %d", r1.StatusCode, r2.StatusCode)
	}
	if r2.Header.Get("Location") != "https://plex.example.com:32400/web" || r1.Header.Get("Location") != site {
		t.Errorf("locations %q %q", r1.Header.Get("Location"), r2.Header.Get("Location"))
	}
}

func TestCallbackRejectsBadLogins(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(e *env)
		tamper func(cb *url.URL, state *http.Cookie) []*http.Cookie
		status int
	}{
		{"state mismatch", nil, func(cb *url.URL, st *http.Cookie) []*http.Cookie {
			q := cb.Query()
			q.Set("state", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
			cb.RawQuery = q.Encode()
			return []*http.Cookie{st}
		}, http.StatusBadRequest},
		{"state cookie missing", nil, func(*url.URL, *http.Cookie) []*http.Cookie { return nil }, http.StatusBadRequest},
		{"state cookie forged", nil, func(_ *url.URL, st *http.Cookie) []*http.Cookie {
			st.Value = st.Value[:len(st.Value)-4] + "AAAA"
			return []*http.Cookie{st}
		}, http.StatusBadRequest},
		{"nonce mismatch", func(e *env) { e.idp.set(func(p *testIDP) { p.nonce = "attacker-nonce" }) }, nil, http.StatusBadGateway},
		{"wrong audience", func(e *env) { e.idp.set(func(p *testIDP) { p.aud = "another-client" }) }, nil, http.StatusBadGateway},
		{"azp missing with several audiences", func(e *env) {
			e.idp.set(func(p *testIDP) { p.aud = []string{"plexgate-client", "other"} })
		}, nil, http.StatusBadGateway},
		{"azp of another client", func(e *env) { e.idp.set(func(p *testIDP) { p.claims["azp"] = "other" }) }, nil, http.StatusBadGateway},
		{"expired id token", func(e *env) { e.idp.set(func(p *testIDP) { p.ttl = -time.Minute }) }, nil, http.StatusBadGateway},
		{"missing code", nil, func(cb *url.URL, st *http.Cookie) []*http.Cookie {
			q := cb.Query()
			q.Del("code")
			cb.RawQuery = q.Encode()
			return []*http.Cookie{st}
		}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if tt.setup != nil {
				tt.setup(e)
			}
			authURL, state := e.startLogin(site)
			cb := e.authorize(authURL)
			cookies := []*http.Cookie{state}
			if tt.tamper != nil {
				cookies = tt.tamper(cb, state)
			}
			resp := e.get(cb.String(), cookies...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body(resp))
			}
			if cookieNamed(resp, "plexgate_session") != nil {
				t.Error("a session cookie was set")
			}
		})
	}
}

func TestReplayedStateIsRejected(t *testing.T) {
	e := newEnv(t, nil)
	authURL, state := e.startLogin(site)
	cb := e.authorize(authURL)
	if resp := e.get(cb.String(), state); resp.StatusCode != http.StatusFound {
		t.Fatalf("first callback: %d", resp.StatusCode)
	}
	resp := e.get(cb.String(), state)
	if resp.StatusCode != http.StatusBadRequest || cookieNamed(resp, "plexgate_session") != nil {
		t.Fatalf("replay: status %d, want 400 without session", resp.StatusCode)
	}
}

func TestExpiredStateIsRejected(t *testing.T) {
	e := newEnv(t, nil)
	authURL, state := e.startLogin(site)
	cb := e.authorize(authURL)
	e.clock.advance(session.StateTTL + time.Second)
	if resp := e.get(cb.String(), state); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
}

func TestDeniedLoginShowsReasonWithoutClaims(t *testing.T) {
	tests := []struct {
		name   string
		cfg    func(*config.Config)
		claims map[string]any
		reason string
	}{
		{"group not allowed", func(c *config.Config) { c.Authz.Groups = []string{"admins"} }, nil, "not on the list"},
		{"email not allowed", func(c *config.Config) { c.Authz.Groups = nil; c.Authz.Emails = []string{"bob@example.com"} }, nil, "not on the list"},
		{"unverified email does not match", func(c *config.Config) { c.Authz.Groups = nil; c.Authz.Domains = []string{"example.com"} },
			map[string]any{"email_verified": false}, "not on the list"},
		{"missing mfa", func(c *config.Config) { c.Authz.RequireMFA = true }, map[string]any{"amr": []string{"pwd"}}, "two-factor"},
		{"acr not accepted", func(c *config.Config) {
			c.Authz.RequireMFA = true
			c.Authz.MFAAMR = nil
			c.Authz.MFAACR = []string{"urn:okta:loa:2fa:any"}
		},
			map[string]any{"acr": "urn:okta:loa:1fa:pwd"}, "two-factor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			e.idp.set(func(p *testIDP) {
				for k, v := range tt.claims {
					p.claims[k] = v
				}
			})
			resp := e.login(site)
			page := body(resp)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, tt.reason) {
				t.Fatalf("status %d page %q", resp.StatusCode, page)
			}
			if strings.Contains(page, "alice") || strings.Contains(page, "plex-users") {
				t.Errorf("page echoes claims: %s", page)
			}
			if cookieNamed(resp, "plexgate_session") != nil {
				t.Error("a session cookie was set")
			}
		})
	}
}

func TestAllowedLogins(t *testing.T) {
	tests := []struct {
		name   string
		cfg    func(*config.Config)
		claims map[string]any
	}{
		{"allow all", func(c *config.Config) { c.Authz.Groups = nil; c.Authz.AllowAll = true }, map[string]any{"groups": nil}},
		{"email case-insensitive", func(c *config.Config) { c.Authz.Groups = nil; c.Authz.Emails = []string{"Alice@Example.com"} }, nil},
		{"email domain", func(c *config.Config) { c.Authz.Groups = nil; c.Authz.Domains = []string{"example.com"} }, nil},
		{"mfa by amr", func(c *config.Config) { c.Authz.RequireMFA = true }, nil},
		{"mfa by acr", func(c *config.Config) { c.Authz.RequireMFA = true; c.Authz.MFAACR = []string{"urn:okta:loa:2fa:any"} },
			map[string]any{"amr": []string{"pwd"}, "acr": "urn:okta:loa:2fa:any"}},
		{"several audiences with our azp", nil, map[string]any{"aud": []string{"plexgate-client", "api"}, "azp": "plexgate-client"}},
		{"custom groups claim", func(c *config.Config) { c.Authz.GroupsClaim = "roles" }, map[string]any{"groups": nil, "roles": []string{"plex-users"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			e.idp.set(func(p *testIDP) {
				for k, v := range tt.claims {
					p.claims[k] = v
				}
				if aud, ok := tt.claims["aud"]; ok {
					p.aud = aud
				}
			})
			c := e.session()
			if resp := e.validate(site, nil, c); resp.StatusCode != http.StatusOK {
				t.Fatalf("validate: %d", resp.StatusCode)
			}
		})
	}
}

func TestUserinfoClaimsAreMerged(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.OIDC.UseUserinfo = true
		c.Headers.Claims = map[string]string{"locale": "X-Locale"}
	})
	e.idp.set(func(p *testIDP) {
		p.claims["groups"] = nil
		p.userinfo = map[string]any{"groups": []string{"plex-users"}, "locale": "en-US", "amr": []string{"forged"}}
	})
	resp := e.validate(site, nil, e.session())
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Locale") != "en-US" {
		t.Fatalf("status %d, X-Locale %q", resp.StatusCode, resp.Header.Get("X-Locale"))
	}
}

func TestProviderErrorShowsPageAndValidateStillWorks(t *testing.T) {
	e := newEnv(t, nil)
	good := e.session()
	e.idp.set(func(p *testIDP) { p.authErr = "access_denied" })
	authURL, state := e.startLogin(site)
	cb := e.authorize(authURL)
	cb.RawQuery += "&error_description=" + url.QueryEscape("<script>alert(1)</script>")
	resp := e.get(cb.String(), state)
	page := body(resp)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "denied access") || strings.Contains(page, "<script>") {
		t.Fatalf("status %d page %q", resp.StatusCode, page)
	}
	if del := cookieNamed(resp, state.Name); del == nil || del.MaxAge >= 0 {
		t.Error("state cookie not deleted")
	}
	if v := e.validate(site, nil, good); v.StatusCode != http.StatusOK {
		t.Fatalf("validate after provider error: %d", v.StatusCode)
	}
}

func TestProviderDownAtStart(t *testing.T) {
	e := newEnv(t, nil)
	cookie := e.session()
	down := newEnv(t, nil)
	down.idp.Close()
	cfg := e.cfg
	cfg.OIDC.Issuer = down.idp.issuer()
	e.srv = e.server(cfg)
	checks := []struct {
		target string
		status int
	}{
		{"https://auth.example.com/healthz", http.StatusOK},
		{"https://auth.example.com/readyz", http.StatusServiceUnavailable},
		{"https://auth.example.com/login?rd=" + url.QueryEscape(site), http.StatusServiceUnavailable},
	}
	for _, c := range checks {
		if resp := e.get(c.target); resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.target, resp.StatusCode, c.status)
		}
	}
	if resp := e.validate(site, nil, cookie); resp.StatusCode != http.StatusOK {
		t.Errorf("validate with provider down: %d", resp.StatusCode)
	}
}

func TestReadyzTurnsReadyAfterDiscovery(t *testing.T) {
	e := newEnv(t, nil)
	if resp := e.get("https://auth.example.com/readyz"); resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %d", resp.StatusCode)
	}
}

func TestLoginRejectsBadReturnURL(t *testing.T) {
	e := newEnv(t, nil)
	for _, rd := range []string{"https://evil.com/", "//evil.com", "javascript:alert(1)"} {
		resp := e.get("https://auth.example.com/login?rd=" + url.QueryEscape(rd))
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("rd %q: status %d location %q", rd, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestOversizedSessionIsRefusedNamingClaims(t *testing.T) {
	e := newEnv(t, nil)
	groups := []string{"plex-users"}
	for i := 0; i < 120; i++ {
		groups = append(groups, strings.Repeat("g", 30)+string(rune('a'+i%26)))
	}
	e.idp.set(func(p *testIDP) { p.claims["groups"] = groups })
	resp := e.login(site)
	page := body(resp)
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(page, "groups (") || cookieNamed(resp, "plexgate_session") != nil {
		t.Fatalf("status %d page %q", resp.StatusCode, page)
	}
}

func TestProviderCAFileIsTrusted(t *testing.T) {
	c := &clock{t: time.Now()}
	idp := startTestIDP(t, c.now, httptest.NewTLSServer)
	ca := writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idp.Certificate().Raw})))
	tests := []struct {
		name   string
		caFile string
		status int
	}{
		{"without ca_file the provider is untrusted", "", http.StatusServiceUnavailable},
		{"with ca_file discovery succeeds", ca, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &env{t: t, idp: idp, clock: c, dir: t.TempDir()}
			e.cfg = testConfig(t, e.dir, idp.issuer())
			e.cfg.OIDC.CAFile = tt.caFile
			e.srv = e.server(e.cfg)
			if resp := e.get("https://auth.example.com/readyz"); resp.StatusCode != tt.status {
				t.Fatalf("readyz %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
}
