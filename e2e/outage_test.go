package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
)

// Scenario 6: with forwardauth stopped, an existing session keeps working
// (the plugin verifies it locally) and a new visitor gets a clear 503,
// never Plex.
func TestForwardauthDownKeepsSessionsAndRefusesNewVisitors(t *testing.T) {
	session := signIn(t, harness.Alice)
	if r := get(t, stack.PlexURL("/web/index.html"), withSession(session, nil)); r.status != http.StatusOK {
		t.Fatalf("before the outage: status %d", r.status)
	}
	stack.Forwardauth.Stop()
	t.Cleanup(func() {
		// t.Context is already canceled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := stack.Forwardauth.Start(ctx); err != nil {
			t.Errorf("restarting forwardauth: %v", err)
		}
	})

	r := get(t, stack.PlexURL("/web/index.html"), withSession(session, nil))
	if r.status != http.StatusOK || !strings.Contains(r.body, harness.Alice.Email) {
		t.Fatalf("existing session during the outage: status %d body %.200q", r.status, r.body)
	}
	for _, accept := range []string{"text/html", "application/json"} {
		seen := len(stack.Plex.Requests())
		r = get(t, stack.PlexURL("/web/index.html"), http.Header{"Accept": {accept}})
		if r.status != http.StatusServiceUnavailable {
			t.Fatalf("new visitor (Accept %s) during the outage: status %d, want 503; body %.200q", accept, r.status, r.body)
		}
		if plexSaw(seen, "/") {
			t.Fatal("a new visitor reached Plex during the outage")
		}
	}
}
