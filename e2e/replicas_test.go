package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
)

// TestReplicas runs issue 16's scale-out scenarios: two Traefik instances
// with the plugin, two forwardauth replicas behind each one's load
// balancer. The subtests share the replicas and run in order.
func TestReplicas(t *testing.T) {
	r, err := stack.StartReplicas(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	for _, tr := range r.Traefik {
		for _, f := range r.Forwardauth {
			awaitServerUp(t, tr, f, true)
		}
	}
	var session string
	t.Run("a sign-in starts on one replica and completes on the other", func(t *testing.T) {
		session = signInAcrossReplicas(t, r)
	})
	if session == "" {
		t.Fatal("no session from the replicas")
	}
	t.Run("a session is accepted by both Traefiks", func(t *testing.T) {
		for i := range r.Traefik {
			if err := plexServes(t, r, i, session, true); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("a rolling key rotation loses no session", func(t *testing.T) { rotateKeys(t, r, session) })
	t.Run("login-state replay protection is per replica", func(t *testing.T) { replayState(t, r) })
	t.Run("a replica killed under load fails no request beyond those in flight", func(t *testing.T) { killUnderLoad(t, r) })
}

// awaitServerUp waits until Traefik's load balancer has the replica up (or down).
func awaitServerUp(t *testing.T, tr *harness.ReplicaTraefik, f *harness.Forwardauth, up bool) {
	t.Helper()
	series := fmt.Sprintf(`traefik_service_server_up{service="forwardauth-replicas@file",url=%q}`, f.URL)
	want := map[bool]float64{true: 1, false: 0}[up]
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if m, err := tr.Metrics(t.Context()); err == nil {
			if v, ok := m[series]; ok && v == want {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: %s did not become %v within 15s", tr.Process().Name(), series, want)
}

// handlerCount is how many requests a replica's handler (login, auth) served.
func handlerCount(t *testing.T, f *harness.Forwardauth, handler string) float64 {
	t.Helper()
	m, err := f.Metrics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return m.Get(fmt.Sprintf(`plexgate_request_duration_seconds_count{handler=%q}`, handler))
}

// signInAcrossReplicas signs in through the first Traefik until the login
// (/login) and the callback (/auth) were served by different replicas, as
// each replica's metrics show; Traefik's round robin usually alternates.
func signInAcrossReplicas(t *testing.T, r *harness.Replicas) string {
	for attempt := 1; attempt <= 4; attempt++ {
		var logins, callbacks [2]float64
		for i, f := range r.Forwardauth {
			logins[i], callbacks[i] = handlerCount(t, f, "login"), handlerCount(t, f, "auth")
		}
		res, err := browser.Run(t.Context(), fmt.Sprintf("replicas-signin-%d", attempt),
			harness.BrowserStep{Goto: r.Traefik[0].URL(harness.PlexHost, "/web")}, harness.BrowserStep{Login: &harness.Alice})
		if err != nil {
			t.Fatal(err)
		}
		session := res.Cookie(harness.CookieName)
		if session == "" || !strings.HasPrefix(res.Steps[1].URL, r.Traefik[0].URL(harness.PlexHost, "/web")) {
			t.Fatalf("sign-in through the replicas: no session, page %s: %.300q", res.Steps[1].URL, res.Steps[1].Text)
		}
		noteSecret("the replicas' session token", session)
		loginOn, authOn := -1, -1
		for i, f := range r.Forwardauth {
			if handlerCount(t, f, "login") > logins[i] {
				loginOn = i
			}
			if handlerCount(t, f, "auth") > callbacks[i] {
				authOn = i
			}
		}
		t.Logf("attempt %d: /login on replica %d, /auth on replica %d", attempt, loginOn, authOn)
		if loginOn >= 0 && authOn >= 0 && loginOn != authOn {
			return session
		}
	}
	t.Fatal("in 4 sign-ins, /login and /auth were never served by different replicas")
	return ""
}

// plexServes asks Traefik i for a fresh Plex path with the session and
// reports whether Plex received it as alice (want) or not at all.
func plexServes(t *testing.T, r *harness.Replicas, i int, session string, want bool) error {
	t.Helper()
	path := fmt.Sprintf("/replicas/%d/%d", i, time.Now().UnixNano())
	resp := get(t, r.Traefik[i].URL(harness.PlexHost, path), withSession(session, http.Header{"Accept": {"application/json"}}))
	got := false
	for _, req := range stack.Plex.Requests() {
		if req.Path == path && req.User == harness.Alice.Email {
			got = true
		}
	}
	// The stand-in Plex answers 404 for this path: reaching it is the point.
	if got != want {
		return fmt.Errorf("traefik-%d: %s with the session: status %d, reached Plex as alice %t, want %t", i, path, resp.status, got, want)
	}
	return nil
}

// validateOn asks replica i's /validate directly about session.
func validateOn(t *testing.T, f *harness.Forwardauth, session string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.URL+"/validate", nil)
	req.Header = http.Header{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Proto": {"https"}, "Accept": {"application/json"},
		"X-Forwarded-Host": {harness.PlexHost}, "X-Forwarded-Uri": {"/web"}, "Cookie": {harness.CookieName + "=" + session}}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("/validate: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// kid is the key id in a session token's header.
func kid(t *testing.T, token string) string {
	t.Helper()
	header, err := base64.RawURLEncoding.DecodeString(strings.SplitN(token, ".", 2)[0])
	var h struct{ Kid string }
	if err != nil || json.Unmarshal(header, &h) != nil || h.Kid == "" {
		t.Fatalf("session token header %q: no kid", header)
	}
	return h.Kid
}

// rotateKeys publishes a new key as verification key on every replica, then
// makes it the signing key, then retires the old one, one replica at a time
// (the other serves meanwhile). After every restart each session still
// valid at that stage passes both Traefiks and both replicas.
func rotateKeys(t *testing.T, r *harness.Replicas, old string) {
	next, err := stack.NewForwardauthKey(t.Context(), "replicas-next.pem")
	if err != nil {
		t.Fatal(err)
	}
	var fresh string
	stages := []struct {
		name         string
		signing      string
		verification []string
	}{
		{"new key published", r.Key, []string{next}},
		{"new key signs", next, []string{r.Key}},
		{"old key retired", next, nil},
	}
	for _, st := range stages {
		for i, f := range r.Forwardauth {
			if err := f.RestartWithKeys(t.Context(), st.signing, st.verification); err != nil {
				t.Fatalf("%s, replica %d: %v", st.name, i, err)
			}
			for _, tr := range r.Traefik {
				awaitServerUp(t, tr, f, true)
			}
			valid := []string{old, fresh}
			if st.verification == nil { // retired: only sessions signed with the new key remain
				valid = []string{fresh}
			}
			checkSessions(t, r, st.name, i, valid)
		}
		if st.signing == next && fresh == "" {
			fresh = signInAcrossReplicas(t, r)
			if kid(t, fresh) == kid(t, old) {
				t.Fatalf("the session minted after the swap has the old key's kid %s", kid(t, old))
			}
		}
	}
	for i, f := range r.Forwardauth {
		if code := validateOn(t, f, old); code != http.StatusUnauthorized {
			t.Errorf("replica %d after the old key's retirement: /validate with its session = %d, want 401", i, code)
		}
	}
}

func checkSessions(t *testing.T, r *harness.Replicas, stage string, restarted int, sessions []string) {
	t.Helper()
	for _, s := range sessions {
		if s == "" {
			continue
		}
		for i, f := range r.Forwardauth {
			if code := validateOn(t, f, s); code != http.StatusOK {
				t.Errorf("%s (replica %d restarted): replica %d /validate = %d, want 200", stage, restarted, i, code)
			}
		}
		for i := range r.Traefik {
			if err := plexServes(t, r, i, s, true); err != nil {
				t.Errorf("%s (replica %d restarted): %v", stage, restarted, err)
			}
		}
	}
}

// replayState shows what the used-state set does across replicas: a login
// state is accepted once per replica process. The callback's code is made
// up, so each accepted state ends at the code exchange, which the provider
// refuses (400, "Sign in again"); a state the replica has already used ends
// before it (400, the attempt "unknown, expired or already used").
func replayState(t *testing.T, r *harness.Replicas) {
	login := get(t, r.Forwardauth[0].URL+"/login?rd="+url.QueryEscape(r.Traefik[0].URL(harness.PlexHost, "/web")), nil)
	loc, _ := url.Parse(login.header.Get("Location"))
	state := loc.Query().Get("state")
	var cookies []string
	for _, c := range (&http.Response{Header: login.header}).Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	if login.status != http.StatusFound || state == "" || len(cookies) == 0 {
		t.Fatalf("/login on replica 0: status %d, Location %q", login.status, login.header.Get("Location"))
	}
	callback := "/auth?state=" + url.QueryEscape(state) + "&code=made-up"
	header := http.Header{"Cookie": {strings.Join(cookies, "; ")}}
	const stateUsed = "unknown, expired or already used"
	steps := []struct {
		replica   int
		stateUsed bool
		what      string
	}{
		{0, false, "first use on replica 0: state accepted, code refused by the provider"},
		{0, true, "replay on replica 0: state already used"},
		{1, false, "replay on replica 1: its used-state set is its own, the state passes; the provider refuses the code"},
		{1, true, "second replay on replica 1: state already used there too"},
	}
	for _, s := range steps {
		resp := get(t, r.Forwardauth[s.replica].URL+callback, header)
		if resp.status != http.StatusBadRequest || strings.Contains(resp.body, stateUsed) != s.stateUsed ||
			strings.Contains(resp.header.Get("Set-Cookie"), harness.CookieName+"=ey") {
			t.Errorf("%s: status %d, want 400 with the state %s (body %.300q)", s.what, resp.status,
				map[bool]string{true: "refused", false: "accepted"}[s.stateUsed], resp.body)
		}
	}
}

// killUnderLoad sends requests that need forwardauth (navigations without
// a session, which the plugin delegates to /validate, and the auth host)
// through both Traefiks from a few workers, SIGKILLs replica 1 midway and
// counts failures. The ones that may fail are those in flight to replica 1
// when it died or dispatched to it before that Traefik's load balancer saw
// its first failure (passive health check: one failure takes it out): at
// most one per worker per Traefik. Every later request goes to replica 0.
func killUnderLoad(t *testing.T, r *harness.Replicas) {
	const workers = 4
	var sent, failed atomic.Int64
	var mu sync.Mutex
	var failures []string
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := stack.HTTPClient()
			for n := 0; ctx.Err() == nil; n++ {
				tr := r.Traefik[(w+n)%2]
				target, want := tr.URL(harness.PlexHost, fmt.Sprintf("/load/%d/%d", w, n)), http.StatusFound
				if n%2 == 1 {
					target, want = tr.URL(harness.AuthHost, "/healthz"), http.StatusOK
				}
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, target, nil)
				req.Header.Set("Accept", "text/html")
				resp, err := client.Do(req)
				sent.Add(1)
				if err == nil {
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != want {
					failed.Add(1)
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %v %v", target, err, statusOf(resp)))
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(2 * time.Second)
	before := sent.Load()
	r.Forwardauth[1].Kill()
	killedAt := sent.Load()
	time.Sleep(3 * time.Second)
	stop()
	wg.Wait()
	t.Logf("%d requests (%d before the kill), %d failed: %v", sent.Load(), before, failed.Load(), failures)
	if inFlight := int64(workers * len(r.Traefik)); failed.Load() > inFlight {
		t.Errorf("%d requests failed; at most the %d in flight at the kill (request %d) may", failed.Load(), inFlight, killedAt)
	}
	if sent.Load()-killedAt < 20 {
		t.Errorf("only %d requests after the kill: the load did not go on", sent.Load()-killedAt)
	}
	if err := r.Forwardauth[1].Start(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func statusOf(resp *http.Response) string {
	if resp == nil {
		return ""
	}
	return resp.Status
}
