package handler

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexgate/plexgate/forwardauth/config"
)

const (
	ownerTok = "ownerTokenAAAAAAAAAA"
	aliceTok = "aliceTokenCCCCCCCCCC"
	bobShare = "bobShareTokenEEEEEEE" // the token plex.tv gave the friend bob for this server
	carolTok = "carolTokenFFFFFFFFFF" // a plex.tv account nobody allowed
	transTok = "transient-0b6a1c2d-aaaa-4bbb-8ccc-0123456789ab"
)

// plexTV stands in for plex.tv (/api/v2/user, shared_servers) and the Plex
// server (/identity, / with a transient token) in one; down answers 503 to all.
type plexTV struct {
	mu    sync.Mutex
	down  bool
	calls int
}

func (p *plexTV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.calls++
	down := p.down
	p.mu.Unlock()
	tok := r.Header.Get("X-Plex-Token")
	accounts := map[string]map[string]any{
		ownerTok: {"id": 1001, "uuid": "u1", "username": "owner", "email": "owner@example.com", "twoFactorEnabled": true},
		aliceTok: {"id": 3003, "uuid": "u3", "username": "alice", "email": "alice@example.com", "twoFactorEnabled": true},
		carolTok: {"id": 4004, "uuid": "u4", "username": "carol", "email": "carol@example.com"},
	}
	switch {
	case down:
		w.WriteHeader(http.StatusServiceUnavailable)
	case r.URL.Path == "/api/v2/user" && accounts[tok] != nil:
		_ = json.NewEncoder(w).Encode(accounts[tok])
	case r.URL.Path == "/api/servers/mid-1/shared_servers" && tok == ownerTok:
		fmt.Fprint(w, `<MediaContainer size="1"><SharedServer id="5" username="bob" email="bob@example.com" userID="2002" accessToken="`+bobShare+`"/></MediaContainer>`)
	case r.URL.Path == "/identity":
		fmt.Fprint(w, `<MediaContainer machineIdentifier="mid-1"/>`)
	case r.URL.Path == "/" && tok == transTok:
		fmt.Fprint(w, `<MediaContainer/>`)
	default:
		w.WriteHeader(http.StatusUnauthorized)
	}
}

func (p *plexTV) set(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
}

// plexEnv is an env with plex.enabled against a plexTV; plex_users lists
// owner and alice, plex_friends is on.
func plexEnv(t testing.TB, mutate func(*config.Config)) (*env, *plexTV) {
	t.Helper()
	tv := &plexTV{}
	srv := httptest.NewServer(tv)
	t.Cleanup(srv.Close)
	e := newEnv(t, func(c *config.Config) {
		c.Plex.Enabled = true
		c.Plex.APIURL, c.Plex.ServerURL = srv.URL, srv.URL
		c.Plex.OwnerTokenFile = writeFile(t, "owner-token", ownerTok+"\n")
		c.Authz.PlexUsers = []string{"owner", "alice"}
		c.Authz.PlexFriends = true
		if mutate != nil {
			mutate(c)
		}
	})
	return e, tv
}

func TestPlexTokenAnswersPerContract(t *testing.T) {
	e, _ := plexEnv(t, nil)
	const base = "https://plex.example.com"
	nested := base + "/photo/:/transcode?width=200&url=" + url.QueryEscape("/library/metadata/1/thumb?X-Plex-Token="+aliceTok)
	app := map[string]string{"Accept": "application/json"}
	tests := []struct {
		name    string
		orig    string
		headers map[string]string
		status  int
		user    string
	}{
		{"owner token, header", base + "/library/sections", map[string]string{"X-Plex-Token": ownerTok}, 200, "owner"},
		{"owner token, query", base + "/library/sections?X-Plex-Token=" + ownerTok, nil, 200, "owner"},
		{"token nested in url=", nested, nil, 200, "alice"},
		{"websocket with query token", base + "/:/websockets/notifications?X-Plex-Token=" + aliceTok, nil, 200, "alice"},
		{"friend's share token", base + "/library/sections", map[string]string{"X-Plex-Token": bobShare}, 200, "bob"},
		{"transient token", base + "/video/:/transcode?X-Plex-Token=" + transTok, nil, 200, "plex-transient"},
		{"account nobody allowed", base + "/library/sections", map[string]string{"X-Plex-Token": carolTok}, 403, ""},
		{"invalid token, app", base + "/library/sections", map[string]string{"X-Plex-Token": "badTokenZZZZZZZZZZZZ", "Accept": "application/json"}, 401, ""},
		{"invalid token, browser navigation", base + "/web/index.html?X-Plex-Token=badTokenZZZZZZZZZZZZ", nil, 401, ""},
		{"conflicting tokens", base + "/library/sections?X-Plex-Token=" + aliceTok, map[string]string{"X-Plex-Token": ownerTok}, 401, ""},
		{"no credential, app", base + "/library/sections", app, 401, ""},
		{"no credential, browser", base + "/web/index.html", nil, 302, ""},
		{"owner on /security/token", base + "/security/token?type=delegation&scope=all", map[string]string{"X-Plex-Token": ownerTok}, 200, "owner"},
		{"alice on /security/token", base + "/security/token?type=delegation&scope=all", map[string]string{"X-Plex-Token": aliceTok}, 403, ""},
		{"friend on /myplex/", base + "/myplex/account", map[string]string{"X-Plex-Token": bobShare}, 403, ""},
		{"transient on /myplex/ (CVE-2025-69414)", base + "/myplex/account?X-Plex-Token=" + transTok, nil, 403, ""},
		{"transient on an encoded /security/token", base + "/%73ecurity/token?X-Plex-Token=" + transTok, nil, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.validate(tt.orig, tt.headers)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.status, body(resp))
			}
			if got := resp.Header.Get("X-Forwarded-User"); got != tt.user {
				t.Errorf("X-Forwarded-User %q, want %q", got, tt.user)
			}
			if tt.status != 302 && resp.Header.Get("Location") != "" {
				t.Errorf("Location %q on a %d", resp.Header.Get("Location"), tt.status)
			}
			cc := resp.Header.Get("Cache-Control")
			if tt.status == 200 && !strings.HasPrefix(cc, "private, max-age=") || tt.status != 200 && cc != "no-store" {
				t.Errorf("Cache-Control %q on a %d", cc, tt.status)
			}
		})
	}
}

func TestPlexVerdictSaysHowLongItMayBeCached(t *testing.T) {
	e, _ := plexEnv(t, func(c *config.Config) { c.Plex.CacheTTL = 10 * time.Minute })
	h := map[string]string{"X-Plex-Token": aliceTok}
	if cc := e.validate(site, h).Header.Get("Cache-Control"); cc != "private, max-age=600" {
		t.Fatalf("first answer: %q", cc)
	}
	e.clock.advance(4*time.Minute + 30*time.Second)
	if cc := e.validate(site, h).Header.Get("Cache-Control"); cc != "private, max-age=330" {
		t.Fatalf("from the cache: %q, want the remaining 330s", cc)
	}
	if cc := e.validate(site+"?X-Plex-Token="+transTok, nil).Header.Get("Cache-Control"); cc != "private, max-age=60" {
		t.Fatalf("transient: %q, want 60s", cc)
	}
	resp := e.validate(site+"?X-Plex-Token="+aliceTok, nil)
	if resp.Header.Get("X-Forwarded-Email") != "alice@example.com" {
		t.Fatalf("X-Forwarded-Email %q", resp.Header.Get("X-Forwarded-Email"))
	}
}

func TestPlexUserFieldEmail(t *testing.T) {
	e, _ := plexEnv(t, func(c *config.Config) { c.Plex.UserField = "email" })
	if got := e.validate(site, map[string]string{"X-Plex-Token": aliceTok}).Header.Get("X-Forwarded-User"); got != "alice@example.com" {
		t.Fatalf("X-Forwarded-User %q", got)
	}
}

func TestSessionDecidesOverPlexTokens(t *testing.T) {
	e, tv := plexEnv(t, nil)
	c := e.session()
	for name, orig := range map[string]string{
		"conflicting tokens":           site + "?X-Plex-Token=a&X-Plex-Token=b",
		"a friend's token on /myplex/": "https://plex.example.com/myplex/account?X-Plex-Token=" + bobShare,
	} {
		resp := e.validate(orig, map[string]string{"X-Plex-Token": "badTokenZZZZZZZZZZZZ"}, c)
		if resp.StatusCode != 200 || resp.Header.Get("X-Forwarded-User") != "alice@example.com" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s with a session: %d %q, want the session's 200", name, resp.StatusCode, resp.Header.Get("X-Forwarded-User"))
		}
	}
	if tv.calls != 0 {
		t.Errorf("plex.tv asked %d times for requests with a session", tv.calls)
	}
}

func TestCORSPreflight(t *testing.T) {
	pre := map[string]string{"X-Forwarded-Method": "OPTIONS", "Origin": "https://app.plex.tv", "Access-Control-Request-Method": "GET"}
	e, tv := plexEnv(t, nil)
	resp := e.validate(site, pre)
	if resp.StatusCode != 200 || resp.Header.Get("X-Forwarded-User") != "" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("preflight: %d, user %q, Cache-Control %q", resp.StatusCode, resp.Header.Get("X-Forwarded-User"), resp.Header.Get("Cache-Control"))
	}
	if tv.calls != 0 {
		t.Fatal("a preflight asked plex.tv")
	}
	for _, drop := range []string{"Origin", "Access-Control-Request-Method"} {
		h := map[string]string{}
		for k, v := range pre {
			if k != drop {
				h[k] = v
			}
		}
		if resp := e.validate(site, h); resp.StatusCode != 401 {
			t.Errorf("OPTIONS without %s: %d, want 401", drop, resp.StatusCode)
		}
	}
	off := newEnv(t, nil)
	if resp := off.validate(site, pre); resp.StatusCode != 401 {
		t.Errorf("preflight with plex.enabled false: %d, want 401 as before", resp.StatusCode)
	}
}

func TestPlexTVDownKeepsKnownTokensRefusesNewOnes(t *testing.T) {
	e, tv := plexEnv(t, nil)
	known := map[string]string{"X-Plex-Token": aliceTok}
	if resp := e.validate(site, known); resp.StatusCode != 200 {
		t.Fatalf("before: %d", resp.StatusCode)
	}
	tv.set(true)
	if resp := e.validate(site, known); resp.StatusCode != 200 {
		t.Fatalf("known token during the outage: %d, want 200", resp.StatusCode)
	}
	for _, tok := range []string{ownerTok, carolTok, "badTokenZZZZZZZZZZZZ", bobShare} {
		resp := e.validate(site, map[string]string{"X-Plex-Token": tok})
		if resp.StatusCode != 503 || resp.Header.Get("X-Forwarded-User") != "" || resp.Header.Get("Location") != "" {
			t.Errorf("new token during the outage: %d %q, want 503 and no identity", resp.StatusCode, resp.Header.Get("X-Forwarded-User"))
		}
	}
}

func TestPlexMetricsApartFromSessions(t *testing.T) {
	e, _ := plexEnv(t, nil)
	e.validate(site, map[string]string{"X-Plex-Token": aliceTok})
	e.validate(site, map[string]string{"X-Plex-Token": carolTok})
	e.validate(site, map[string]string{"X-Plex-Token": "badTokenZZZZZZZZZZZZ"})
	e.validate(site, map[string]string{"X-Forwarded-Method": "OPTIONS", "Origin": "https://app.plex.tv", "Access-Control-Request-Method": "GET"})
	m := body(e.get("http://forwardauth:4181/metrics"))
	for _, want := range []string{
		`plexgate_plex_validate_total{result="allowed"} 1`,
		`plexgate_plex_validate_total{result="forbidden"} 1`,
		`plexgate_plex_validate_total{result="invalid"} 1`,
		`plexgate_plex_validate_total{result="preflight"} 1`,
		`plexgate_validate_requests_total{result="allowed"} 0`,
		`plexgate_validate_requests_total{result="unauthorized"} 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestPlexOwnerTokenFileProblems(t *testing.T) {
	e := newEnv(t, nil)
	for name, file := range map[string]string{"missing": "/nonexistent/owner-token", "empty": writeFile(t, "empty", "\n")} {
		cfg := e.cfg
		cfg.Plex.Enabled, cfg.Plex.OwnerTokenFile, cfg.Authz.PlexUsers = true, file, []string{"alice"}
		if _, err := New(cfg, nil, nil); err == nil || !strings.Contains(err.Error(), "plex.owner_token_file") || strings.Contains(err.Error(), ownerTok) {
			t.Errorf("%s owner token file: %v", name, err)
		}
	}
}
