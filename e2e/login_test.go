package e2e

import (
	"strings"
	"testing"

	"github.com/plexgate/plexgate/e2e/harness"
)

// Scenario 2: in Chromium, the Plex host redirects to the provider; after
// password and one-time code the browser is back on /web showing the user,
// and further requests with that session are answered by the plugin alone
// (forwardauth counts no further /validate calls).
func TestBrowserSignInReachesPlexAndLaterRequestsSkipValidate(t *testing.T) {
	user := harness.Alice
	res, err := browser.Run(t.Context(), "scenario2-"+user.Username,
		harness.BrowserStep{Goto: stack.PlexURL("/web")},
		harness.BrowserStep{Login: &user},
		harness.BrowserStep{Reload: 2},
	)
	if err != nil {
		t.Fatal(err)
	}
	if first := res.Steps[0]; !strings.HasPrefix(first.URL, stack.Provider.Issuer[:strings.Index(stack.Provider.Issuer, "/oauth2")]+"/interaction/") {
		t.Fatalf("opening the Plex host ended at %s, want the provider's sign-in page", first.URL)
	}
	for i, step := range res.Steps[1:] {
		if step.URL != stack.PlexURL("/web/index.html") || step.Status != 200 || !strings.Contains(step.Text, "Signed in as "+user.Email) {
			t.Fatalf("step %d after sign-in: %s status %d text %.300q", i+1, step.URL, step.Status, step.Text)
		}
	}
	session := res.Cookie(harness.CookieName)
	if session == "" {
		t.Fatalf("no session cookie %s in the browser: %+v", harness.CookieName, res.Cookies)
	}
	noteSecret("a session token", session)

	before, err := stack.ForwardauthMetrics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		r := get(t, stack.PlexURL("/web/index.html"), withSession(session, nil))
		if r.status != 200 || !strings.Contains(r.body, "Signed in as <span id=\"user\">"+user.Email) {
			t.Fatalf("request with the session: status %d body %.300q", r.status, r.body)
		}
	}
	after, err := stack.ForwardauthMetrics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if before.ValidateCalls() != after.ValidateCalls() {
		t.Fatalf("forwardauth counted %v /validate calls for 5 requests with a known session, want 0", after.ValidateCalls()-before.ValidateCalls())
	}
	if before.ValidateCalls() < 1 {
		t.Fatalf("forwardauth counted no /validate call at all; the first unauthenticated navigation should have been one")
	}
}
