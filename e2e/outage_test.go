package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
)

// unseenSession signs user in through forwardauth's own pages (return URL
// on the auth host), so the session cookie never passes the Plex router and
// the plugin has not cached it.
func unseenSession(t *testing.T, user harness.User) string {
	t.Helper()
	login := stack.AuthURL("/login?rd=" + url.QueryEscape(stack.AuthURL("/")))
	res, err := browser.Run(t.Context(), "unseen-"+user.Username, harness.BrowserStep{Goto: login}, harness.BrowserStep{Login: &user})
	if err != nil {
		t.Fatal(err)
	}
	if last := res.Steps[1]; !strings.HasPrefix(last.URL, stack.AuthURL("/")) {
		t.Fatalf("sign-in ended at %s, want forwardauth's home page", last.URL)
	}
	s := res.Cookie(harness.CookieName)
	if s == "" {
		t.Fatal("no session cookie after signing in on the auth host")
	}
	noteSecret("a session token", s)
	return s
}

// Scenario 6: with forwardauth stopped, sessions keep working — one the
// plugin has cached, and one it has never seen (verified locally with the
// keys it fetched before) — while a new visitor gets a clear 503, never Plex.
func TestForwardauthDownKeepsSessionsAndRefusesNewVisitors(t *testing.T) {
	cached := signIn(t, harness.Alice)
	if r := get(t, stack.PlexURL("/web/index.html"), withSession(cached, nil)); r.status != http.StatusOK {
		t.Fatalf("before the outage: status %d", r.status)
	}
	unseen := unseenSession(t, harness.Alice)
	stack.Forwardauth.Stop()
	t.Cleanup(func() {
		// t.Context is already canceled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := stack.Forwardauth.Start(ctx); err != nil {
			t.Errorf("restarting forwardauth: %v", err)
		}
	})

	for name, session := range map[string]string{"cached session": cached, "session the plugin never saw": unseen} {
		r := get(t, stack.PlexURL("/web/index.html"), withSession(session, nil))
		if r.status != http.StatusOK || !strings.Contains(r.body, harness.Alice.Email) {
			t.Errorf("%s during the outage: status %d body %.200q", name, r.status, r.body)
		}
	}
	for _, accept := range []string{"text/html", "application/json"} {
		seen := len(stack.Plex.Requests())
		r := get(t, stack.PlexURL("/web/index.html"), http.Header{"Accept": {accept}})
		if r.status != http.StatusServiceUnavailable || !strings.Contains(strings.ToLower(r.body), "unavailable") {
			t.Errorf("new visitor (Accept %s) during the outage: status %d body %.200q, want 503 saying the service is unavailable", accept, r.status, r.body)
		}
		if plexSaw(seen, "/") {
			t.Error("a new visitor reached Plex during the outage")
		}
	}
}
