package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
)

// Short lifetimes for the refresh tests (docs/contract.md "Refresh").
const (
	refreshAfter = 2 * time.Second // forwardauth's session.refresh_after
	faLeeway     = time.Second     // forwardauth's session.leeway
	pluginTTL    = 2 * time.Second // the plugin's CacheTTL
	jwksMaxAge   = 2 * time.Second // the plugin's JWKSMaxAge
	jwksInterval = time.Second     // the plugin's JWKSMinRefreshInterval
	// restartSlack covers a forwardauth restart and the polling step.
	restartSlack = 3 * time.Second
)

// shortSessions restarts the stack's forwardauth with refresh_after and the
// leeway in seconds, carol's email allowed and a deny list (empty), plus
// edit; the original configuration is back when the test ends. It returns
// the deny list file.
func shortSessions(t *testing.T, edit func(sessionConf map[string]any)) string {
	t.Helper()
	deny := filepath.Join(stack.RunDir, "deny-"+t.Name())
	if err := os.WriteFile(deny, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	restore, err := stack.RestartForwardauthWith(t.Context(), func(conf map[string]any) {
		s := harness.Section(conf, "session")
		s["refresh_after"], s["leeway"], s["deny_list_file"] = refreshAfter.String(), faLeeway.String(), deny
		harness.Section(conf, "authz")["emails"] = []string{carol.email}
		if edit != nil {
			edit(s)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := restore(context.Background()); err != nil {
			t.Errorf("restoring forwardauth: %v", err)
		}
	})
	return deny
}

// shortTraefik is a Traefik whose plugin caches for pluginTTL and re-reads
// the JWKS after jwksMaxAge, with more plugin options.
func shortTraefik(t *testing.T, more ...string) *harness.ReloadTraefik {
	t.Helper()
	options := map[string]string{
		"CacheTTL": pluginTTL.String(), "Leeway": "1s",
		"JWKSMaxAge": jwksMaxAge.String(), "JWKSMinRefreshInterval": jwksInterval.String(),
	}
	for i := 0; i+1 < len(more); i += 2 {
		options[more[i]] = more[i+1]
	}
	tr, err := stack.StartTraefikWithPluginOptions(t.Context(), "traefik-"+strings.ToLower(t.Name()), options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Stop)
	return tr
}

// client is one user agent's session: it sends its cookie to Plex through
// tr and takes the cookies it is given, as a browser does.
type client struct {
	t      *testing.T
	tr     *harness.ReloadTraefik
	http   *http.Client
	cookie string
}

func newClient(t *testing.T, tr *harness.ReloadTraefik, token string) *client {
	return &client{t: t, tr: tr, http: tr.Client(), cookie: token}
}

// get loads Plex's page and returns the status (and Location).
func (c *client) get() (int, string) {
	c.t.Helper()
	req, _ := http.NewRequestWithContext(c.t.Context(), http.MethodGet, c.tr.URL(harness.PlexHost, "/web/index.html"), nil)
	req.AddCookie(&http.Cookie{Name: harness.CookieName, Value: c.cookie})
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == harness.CookieName && ck.Value != "" {
			c.cookie = ck.Value
		}
	}
	return resp.StatusCode, resp.Header.Get("Location")
}

// claimsOf decodes a token's payload (it was verified by forwardauth).
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.20q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	if err != nil || json.Unmarshal(raw, &c) != nil {
		t.Fatalf("token payload: %v", err)
	}
	return c
}

func TestRefreshKeepsABrowserSessionWithoutSignIn(t *testing.T) {
	shortSessions(t, nil)
	before, err := stack.ForwardauthMetrics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	user := harness.Alice
	steps := []harness.BrowserStep{{Goto: stack.PlexURL("/web")}, {Login: &user}}
	for i := 0; i < 3; i++ { // each sleep passes the token's refresh point
		steps = append(steps, harness.BrowserStep{SleepMs: int((refreshAfter + time.Second) / time.Millisecond)}, harness.BrowserStep{Reload: 1})
	}
	res, err := browser.Run(t.Context(), "refresh", steps...)
	if err != nil {
		t.Fatal(err)
	}
	for i := 3; i < len(res.Steps); i += 2 {
		if s := res.Steps[i]; s.Status != http.StatusOK || !strings.Contains(s.Text, "Signed in as "+user.Email) {
			t.Fatalf("reload %d: %s status %d text %.200q", i/2, s.URL, s.Status, s.Text)
		}
	}
	c := claimsOf(t, res.Cookie(harness.CookieName))
	noteSecret("a session token", res.Cookie(harness.CookieName))
	iat, _ := c["iat"].(float64)
	authTime, _ := c["auth_time"].(float64)
	if iat-authTime < 2*refreshAfter.Seconds() {
		t.Fatalf("final cookie: iat %v, auth_time %v: not refreshed across the reloads (the first cookie has iat = auth_time)", iat, authTime)
	}
	after, err := stack.ForwardauthMetrics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	logins := `plexgate_logins_total{result="success"}`
	if n := after.Get(logins) - before.Get(logins); n != 1 {
		t.Fatalf("%v sign-ins, want 1", n)
	}
	if n := after.Get("plexgate_session_refreshes_total") - before.Get("plexgate_session_refreshes_total"); n < 3 {
		t.Fatalf("%v refreshes, want at least 3", n)
	}
}

// pollUntil calls check every 250ms until it returns true or bound passes.
func pollUntil(t *testing.T, bound time.Duration, check func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		if check() {
			return true
		}
		time.Sleep(250 * time.Millisecond)
	}
	return check()
}

func TestRefreshAppliesARuleChangeWithinTheBound(t *testing.T) {
	shortSessions(t, nil)
	tr := shortTraefik(t)
	m := newMinter(t, stack.ForwardauthKey(), refreshAfter, time.Hour)
	a, c := newClient(t, tr, m.mint(t, alice)), newClient(t, tr, m.mint(t, carol))
	if sa, _ := a.get(); sa != http.StatusOK {
		t.Fatalf("alice: %d", sa)
	}
	if sc, _ := c.get(); sc != http.StatusOK {
		t.Fatalf("carol: %d", sc)
	}
	if _, err := stack.RestartForwardauthWith(t.Context(), func(conf map[string]any) {
		delete(harness.Section(conf, "authz"), "emails") // carol is no longer allowed
	}); err != nil {
		t.Fatal(err)
	}
	bound := refreshAfter + pluginTTL + faLeeway + restartSlack // SECURITY.md: refresh_after + CacheTTL + leeway
	if !pollUntil(t, bound, func() bool {
		if s, _ := a.get(); s != http.StatusOK {
			t.Fatalf("alice, untouched by the change: status %d", s)
		}
		s, _ := c.get()
		return s == http.StatusForbidden
	}) {
		t.Fatalf("carol still allowed %s after being removed from the rules", bound)
	}
}

func TestRefreshDuringAnOutageKeepsTheSessionUntilExp(t *testing.T) {
	const life = 8 * time.Second
	shortSessions(t, nil)
	m := newMinter(t, stack.ForwardauthKey(), refreshAfter, life)
	// The key inline too: Traefik rebuilds its middlewares on configuration
	// events in its first seconds, and a rebuilt plugin has fetched no JWKS,
	// which it cannot do while forwardauth is down (docs/contract.md).
	tr := shortTraefik(t, "PublicKeys", m.publicPEM())
	start := time.Now()
	a := newClient(t, tr, m.mint(t, alice))
	if s, _ := a.get(); s != http.StatusOK {
		t.Fatalf("before the outage: %d", s)
	}
	stack.Forwardauth.Stop()
	stopped := true
	t.Cleanup(func() {
		if stopped {
			_ = stack.Forwardauth.Start(context.Background())
		}
	})
	for time.Since(start) < life-time.Second { // past the refresh point, up to exp
		if s, _ := a.get(); s != http.StatusOK {
			t.Fatalf("%s after the sign-in, forwardauth stopped: status %d, want 200 until exp", time.Since(start).Round(time.Millisecond), s)
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(time.Until(start.Add(life + 2*time.Second))) // exp and the plugin's leeway
	if s, _ := a.get(); s == http.StatusOK {
		t.Fatal("expired session still allowed while forwardauth is stopped")
	}
	stopped = false
	if err := stack.Forwardauth.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshEndsAtMaxAgeFromTheSignIn(t *testing.T) {
	shortSessions(t, func(s map[string]any) { s["max_age"] = "1h" })
	tr := shortTraefik(t)
	// Signed in 1h - 5s ago; the token itself would live another hour:
	// max_age counts from auth_time.
	m := newMinter(t, stack.ForwardauthKey(), refreshAfter, 2*time.Hour)
	m.signedIn = time.Now().Add(-time.Hour + 5*time.Second)
	a := newClient(t, tr, m.mint(t, alice))
	first := a.cookie
	if s, _ := a.get(); s != http.StatusOK {
		t.Fatalf("within max_age: %d", s)
	}
	if !pollUntil(t, 5*time.Second+faLeeway+pluginTTL+restartSlack, func() bool {
		s, loc := a.get()
		return s == http.StatusFound && strings.HasPrefix(loc, stack.AuthURL("/login"))
	}) {
		t.Fatal("session past max_age not sent to the login")
	}
	if a.cookie == first {
		t.Fatal("the session was not refreshed before max_age")
	}
}

func TestDenyListEjectsOneUserOnly(t *testing.T) {
	deny := shortSessions(t, nil)
	tr := shortTraefik(t)
	m := newMinter(t, stack.ForwardauthKey(), refreshAfter, time.Hour)
	a, c := newClient(t, tr, m.mint(t, alice)), newClient(t, tr, m.mint(t, carol))
	for _, u := range []*client{a, c} {
		if s, _ := u.get(); s != http.StatusOK {
			t.Fatalf("before the deny list: %d", s)
		}
	}
	sid, _ := claimsOf(t, c.cookie)["sid"].(string)
	if err := os.WriteFile(deny, []byte("# carol's laptop was stolen\nsid "+sid+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bound := refreshAfter + pluginTTL + faLeeway + time.Second + restartSlack // + the deny list's 1s look
	if !pollUntil(t, bound, func() bool {
		if s, _ := a.get(); s != http.StatusOK {
			t.Fatalf("alice, not on the deny list: status %d", s)
		}
		s, loc := c.get()
		return s == http.StatusFound && strings.HasPrefix(loc, stack.AuthURL("/login"))
	}) {
		t.Fatalf("carol's session still allowed %s after the deny list named it", bound)
	}
}

func TestJWKSRetiredKeyIsRefusedByThePluginWithinJWKSMaxAge(t *testing.T) {
	retired := stack.ForwardauthKey()
	current, err := stack.NewForwardauthKey(t.Context(), "session-current-"+t.Name()+".pem")
	if err != nil {
		t.Fatal(err)
	}
	shortSessions(t, func(s map[string]any) {
		s["signing_key_file"], s["verification_key_files"] = current, []string{retired}
	})
	tr := shortTraefik(t)
	// Traefik rebuilds its middlewares on the configuration events of its
	// first seconds; a rebuilt plugin fetches the JWKS afresh and would
	// refuse the retired key without ever having trusted it. Let those
	// events pass, so that the plugin checked below is the one that did.
	time.Sleep(3 * time.Second)
	old := newClient(t, tr, newMinter(t, retired, time.Hour, time.Hour).mint(t, alice))
	fresh := newClient(t, tr, newMinter(t, current, time.Hour, time.Hour).mint(t, alice))
	for _, u := range []*client{old, fresh} {
		if s, _ := u.get(); s != http.StatusOK {
			t.Fatalf("both keys published: %d", s)
		}
	}
	if _, err := stack.RestartForwardauthWith(t.Context(), func(conf map[string]any) {
		delete(harness.Section(conf, "session"), "verification_key_files") // the retired key is gone
	}); err != nil {
		t.Fatal(err)
	}
	bound := jwksMaxAge + jwksInterval + restartSlack
	if !pollUntil(t, bound, func() bool {
		if s, _ := fresh.get(); s != http.StatusOK {
			t.Fatalf("token of the published key: status %d", s)
		}
		s, _ := old.get()
		return s != http.StatusOK
	}) {
		t.Fatalf("token of the retired key still allowed %s after its removal", bound)
	}
	// The plugin that verified the token dropped the key (not a rebuilt one
	// that never knew it).
	if log, err := os.ReadFile(filepath.Join(stack.RunDir, "traefik-"+strings.ToLower(t.Name())+".log")); err != nil || !strings.Contains(string(log), "dropped=1") {
		t.Fatalf("no JWKS re-read dropping the key in Traefik's log (%v)", err)
	}
}

// The reference forwardAuth middleware (dynamic/auth.yml) passes the
// refreshed cookie on through addAuthCookiesToResponse.
func TestRefreshThroughTheForwardAuthMiddleware(t *testing.T) {
	shortSessions(t, nil)
	tr, err := stack.StartTraefikWithPlexYML(t.Context(), "traefik-"+strings.ToLower(t.Name()), func(yml string) (string, error) {
		if strings.Count(yml, "        - plexgate\n") != 2 {
			return "", errors.New("dynamic/plex.yml: want the plexgate middleware on its two routers")
		}
		return strings.ReplaceAll(yml, "        - plexgate\n", "        - plexgate-forwardauth\n"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Stop)
	a := newClient(t, tr, newMinter(t, stack.ForwardauthKey(), refreshAfter, time.Hour).mint(t, alice))
	first := a.cookie
	if s, _ := a.get(); s != http.StatusOK || a.cookie != first {
		t.Fatalf("before the refresh point: status %d, cookie changed %v; want 200, unchanged", s, a.cookie != first)
	}
	time.Sleep(refreshAfter)
	if s, _ := a.get(); s != http.StatusOK || a.cookie == first {
		t.Fatalf("past the refresh point: status %d, cookie changed %v; want 200 and a fresh cookie", s, a.cookie != first)
	}
	if sid := claimsOf(t, a.cookie)["sid"]; sid != claimsOf(t, first)["sid"] {
		t.Fatalf("refreshed cookie has sid %v, want the session's own", sid)
	}
	noteSecret("a session token", a.cookie)
}
