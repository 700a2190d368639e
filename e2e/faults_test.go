package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
)

// Faults survived end to end (SECURITY.md). forwardauth down is scenario 6
// (outage_test.go); clock skew and signing-key rotation are covered at unit
// level (forwardauth TestSessionLeewayBoundsClockSkew and TestKeyRotation,
// plugin TestRemovedSigningKeyIsRefusedAfterRefresh).

// validateDirect asks forwardauth's /validate directly, as Traefik would.
func validateDirect(t *testing.T, session string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, stack.Forwardauth.URL+"/validate", nil)
	req.Header = http.Header{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Proto": {"https"},
		"X-Forwarded-Host": {harness.PlexHost}, "X-Forwarded-Uri": {"/web"}, "Cookie": {harness.CookieName + "=" + session}}
	client := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("/validate: %v", err)
	}
	resp.Body.Close()
	return resp
}

func TestProviderDownDuringLoginShowsErrorAndRecovers(t *testing.T) {
	session := signIn(t, harness.Alice)
	// A login is started while the provider is up...
	r := get(t, stack.AuthURL("/login?rd="+url.QueryEscape(stack.PlexURL("/web"))), nil)
	loc, _ := url.Parse(r.header.Get("Location"))
	state := loc.Query().Get("state")
	if r.status != http.StatusFound || state == "" {
		t.Fatalf("/login: status %d, Location %q", r.status, r.header.Get("Location"))
	}
	stateCookie := ""
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if strings.HasSuffix(c.Name, "_login_"+state) {
			stateCookie = c.Name + "=" + c.Value
		}
	}
	// ...and the provider goes down before the callback.
	stack.Provider.Stop()
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := stack.RestartProvider(ctx); err != nil {
				t.Errorf("restarting the provider: %v", err)
			}
		}
	})
	cb := get(t, stack.AuthURL("/auth?state="+state+"&code=issued-before-the-outage"), http.Header{"Cookie": {stateCookie}})
	if cb.status != http.StatusBadGateway || !strings.Contains(cb.body, "Sign-in failed") || strings.Contains(cb.body, "127.0.0.1") ||
		strings.Contains(cb.body, "refused") || strings.Contains(cb.header.Get("Set-Cookie"), harness.CookieName+"=ey") {
		t.Fatalf("callback with the provider down: status %d, body %.300q", cb.status, cb.body)
	}
	if resp := validateDirect(t, session); resp.StatusCode != http.StatusOK || resp.Header.Get("X-Forwarded-User") != harness.Alice.Email {
		t.Fatalf("/validate with the provider down: status %d, user %q", resp.StatusCode, resp.Header.Get("X-Forwarded-User"))
	}
	// Back with a new signing key: a new login works.
	if err := stack.RestartProvider(t.Context()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	fresh := unseenSession(t, harness.Alice)
	if resp := validateDirect(t, fresh); resp.StatusCode != http.StatusOK {
		t.Fatalf("session from the login after the restart: /validate status %d", resp.StatusCode)
	}
}

// reloadCount is how many dynamic-configuration reloads the reload test makes.
const reloadCount = 100

func TestDynamicConfigReloadsRebuildThePluginWithoutLeaks(t *testing.T) {
	session := signIn(t, harness.Alice)
	rt, err := stack.StartReloadTraefik(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Stop)
	plexYML := filepath.Join(rt.DynamicDir, "plex.yml")
	withGroups, err := os.ReadFile(plexYML)
	if err != nil {
		t.Fatal(err)
	}
	groupsLine := "            - X-Forwarded-Groups\n"
	if strings.Count(string(withGroups), groupsLine) != 1 {
		t.Fatalf("dynamic/plex.yml no longer has the line %q once", groupsLine)
	}
	variants := [][]byte{[]byte(strings.Replace(string(withGroups), groupsLine, "", 1)), withGroups}
	client := rt.Client()
	stopHammer, hammered := hammerUnauthenticated(t, rt)
	var g0, rss0 float64
	for i := 0; i < reloadCount; i++ {
		if i == 5 {
			g0, rss0 = vitals(t, rt)
		}
		writeAtomically(t, plexYML, variants[i%2])
		if err := awaitGroupsHeader(t, client, rt, session, i%2 == 1, i); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
	}
	g1, rss1 := vitals(t, rt)
	stopHammer()
	// Old instances' idle connections to forwardauth close after the
	// plugin's idle-connection timeout (15s); after that nothing may remain.
	time.Sleep(20 * time.Second)
	g2, rss2 := vitals(t, rt)
	t.Logf("%d reloads: goroutines %.0f -> %.0f -> %.0f after 20s idle, RSS %.1f -> %.1f -> %.1f MB; %s",
		reloadCount, g0, g1, g2, rss0, rss1, rss2, hammered())
	if g2 > g0+30 || rss2 > rss0+64 {
		t.Errorf("Traefik grew over %d reloads: goroutines %.0f -> %.0f, RSS %.1f -> %.1f MB", reloadCount, g0, g2, rss0, rss2)
	}
}

func vitals(t *testing.T, rt *harness.ReloadTraefik) (goroutines, rssMB float64) {
	t.Helper()
	m, err := rt.Metrics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return m.Get("go_goroutines"), m.Get("process_resident_memory_bytes") / (1 << 20)
}

func writeAtomically(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// awaitGroupsHeader polls with the session until Plex receives (or stops
// receiving) X-Forwarded-Groups: the sign that the plugin was rebuilt with
// the new configuration.
func awaitGroupsHeader(t *testing.T, client *http.Client, rt *harness.ReloadTraefik, session string, want bool, i int) error {
	deadline := time.Now().Add(15 * time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		path := fmt.Sprintf("/reload-probe/%d/%d", i, n)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, rt.URL(harness.PlexHost, path), nil)
		req.Header.Set("Cookie", harness.CookieName+"="+session)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
		for _, r := range stack.Plex.Requests() {
			if r.Path == path {
				if _, has := r.IdentityHeaders["X-Forwarded-Groups"]; has == want && r.User == harness.Alice.Email {
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("X-Forwarded-Groups present=%v not seen within 15s", want)
}

// hammerUnauthenticated sends requests without a session (with a forged
// identity) during the reloads; none may reach Plex. stop ends it and checks.
func hammerUnauthenticated(t *testing.T, rt *harness.ReloadTraefik) (stop func(), summary func() string) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		client := rt.Client()
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			req, _ := http.NewRequest(http.MethodGet, rt.URL(harness.PlexHost, "/unauth-probe"), nil)
			req.Header.Set("X-Forwarded-User", harness.Alice.Email)
			status := 0
			if resp, err := client.Do(req); err == nil {
				status = resp.StatusCode
				resp.Body.Close()
			}
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		}
	}()
	stop = func() {
		close(done)
		wg.Wait()
		for _, r := range stack.Plex.Requests() {
			if r.Path == "/unauth-probe" {
				t.Errorf("an unauthenticated request reached Plex during a reload (as %q)", r.User)
				break
			}
		}
		mu.Lock()
		defer mu.Unlock()
		// Each one must get the login redirect: a 2xx let it through, and
		// anything else (a 404 while no router exists, a 5xx, no answer)
		// is a request lost to the reload.
		for status, n := range statuses {
			if status != http.StatusFound {
				t.Errorf("%d unauthenticated requests got %d during reloads, not 302", n, status)
			}
		}
	}
	summary = func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprintf("unauthenticated requests during reloads by status: %v", statuses)
	}
	return stop, summary
}

func TestSigningKeyRotationKeepsSessionsThenRefusesTheRemovedKey(t *testing.T) {
	old := signIn(t, harness.Alice)
	next, err := stack.NewForwardauthKey(t.Context(), "session-next.pem")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := stack.RestartForwardauthWithKeys(ctx, stack.ForwardauthKey(), nil); err != nil {
			t.Errorf("restoring forwardauth's key: %v", err)
		}
	})
	// A new signing key, the old one kept for verification: nobody is logged out.
	if err := stack.RestartForwardauthWithKeys(t.Context(), next, []string{stack.ForwardauthKey()}); err != nil {
		t.Fatal(err)
	}
	if resp := validateDirect(t, old); resp.StatusCode != http.StatusOK {
		t.Fatalf("session of the old key while it is kept: /validate status %d", resp.StatusCode)
	}
	fresh := unseenSession(t, harness.Alice)
	if resp := validateDirect(t, fresh); resp.StatusCode != http.StatusOK {
		t.Fatalf("session of the new key: /validate status %d", resp.StatusCode)
	}
	if r := get(t, stack.PlexURL("/web/index.html"), withSession(fresh, nil)); r.status != http.StatusOK || !strings.Contains(r.body, harness.Alice.Email) {
		t.Fatalf("session of the new key through Traefik: status %d", r.status)
	}
	// The old key removed: its sessions are refused, the new ones still work.
	if err := stack.RestartForwardauthWithKeys(t.Context(), next, nil); err != nil {
		t.Fatal(err)
	}
	if resp := validateDirect(t, old); resp.StatusCode == http.StatusOK {
		t.Fatal("session of the removed key still allowed by /validate")
	}
	if resp := validateDirect(t, fresh); resp.StatusCode != http.StatusOK {
		t.Fatalf("session of the new key after the removal: /validate status %d", resp.StatusCode)
	}
}

func TestHugeOrNumerousHeadersThroughTraefikGetClean4xx(t *testing.T) {
	manyCookies := strings.Repeat(harness.CookieName+"="+strings.Repeat("A", 4000)+"; ", 100) // 400 KB of same-named cookies
	tests := []struct {
		name   string
		header http.Header
		want   int
	}{
		// Over forwardauth's 64 KB header limit: its 431 is relayed.
		{"100 same-named 4 KB cookies", http.Header{"Cookie": {manyCookies}, "Accept": {"text/html"}}, http.StatusRequestHeaderFieldsTooLarge},
		{"15 same-named 4 KB cookies", http.Header{"Cookie": {manyCookies[:15*(len(manyCookies)/100)]}, "Accept": {"text/html"}}, http.StatusFound},
		{"one 2 MB header", http.Header{"X-Big": {strings.Repeat("B", 2<<20)}}, http.StatusRequestHeaderFieldsTooLarge},
		{"5000 headers", func() http.Header {
			h := http.Header{}
			for i := 0; i < 5000; i++ {
				h.Set(fmt.Sprintf("X-H-%d", i), "v")
			}
			return h
		}(), http.StatusFound},
	}
	// HTTP/1.1, as most Plex apps speak it (an HTTP/2 client refuses by
	// itself to send more than the server's advertised header list size).
	client := stack.HTTPClient()
	tr := client.Transport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = false
	tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	client.Transport = tr
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := len(stack.Plex.Requests())
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, stack.PlexURL("/web/index.html"), nil)
			req.Header = tt.header
			status, _, _, err := do(client, req)
			if err != nil || status != tt.want {
				t.Fatalf("status %d (%v), want %d", status, err, tt.want)
			}
			if plexSaw(seen, "/") {
				t.Fatal("the request reached Plex")
			}
		})
	}
}
