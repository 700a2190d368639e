package e2e

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plexgate/plexgate/e2e/bench"
	"github.com/plexgate/plexgate/e2e/harness"
)

// Scenario 3, without a session: API callers get 401, browsers a redirect
// to forwardauth's login carrying the original URL.
func TestNoSessionXHRGets401AndNavigationRedirectsToLogin(t *testing.T) {
	tests := []struct {
		name       string
		header     http.Header
		wantStatus int
	}{
		{"xhr", http.Header{"X-Requested-With": {"XMLHttpRequest"}, "Accept": {"application/json"}}, http.StatusUnauthorized},
		{"json api", http.Header{"Accept": {"application/json"}}, http.StatusUnauthorized},
		{"navigation", http.Header{"Accept": {"text/html,application/xhtml+xml"}}, http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := len(stack.Plex.Requests())
			r := get(t, stack.PlexURL("/web/index.html?x=1"), tt.header)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %.200q", r.status, tt.wantStatus, r.body)
			}
			if plexSaw(seen, "/") {
				t.Fatal("the request reached Plex")
			}
			if tt.wantStatus != http.StatusFound {
				return
			}
			loc, err := url.Parse(r.header.Get("Location"))
			if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != stack.AuthURL("/login") {
				t.Fatalf("Location %q, want %s?rd=…", r.header.Get("Location"), stack.AuthURL("/login"))
			}
			if rd := loc.Query().Get("rd"); rd != stack.PlexURL("/web/index.html?x=1") {
				t.Fatalf("rd %q, want the original URL", rd)
			}
		})
	}
}

// Scenario 3, signed in but not allowed: a user outside the allowed group,
// and a user without MFA while MFA is required, get 403 and never Plex.
func TestSignedInButNotAllowedGets403(t *testing.T) {
	for _, user := range []harness.User{harness.Mallory, harness.Bob} {
		t.Run(user.Username, func(t *testing.T) {
			seen := len(stack.Plex.Requests())
			res, err := browser.Run(t.Context(), "scenario3-"+user.Username,
				harness.BrowserStep{Goto: stack.PlexURL("/web")}, harness.BrowserStep{Login: &user})
			if err != nil {
				t.Fatal(err)
			}
			last := res.Steps[1]
			if last.Status != http.StatusForbidden {
				t.Fatalf("after signing in as %s: %s status %d, want 403; text %.300q", user.Username, last.URL, last.Status, last.Text)
			}
			if plexSaw(seen, "/") {
				t.Fatalf("a request of %s reached Plex", user.Username)
			}
			if session := res.Cookie(harness.CookieName); session != "" {
				t.Fatalf("the refused sign-in of %s set a session cookie", user.Username)
			}
			// A session of this user, as forwardauth signed it at a login
			// its rules allowed before they changed: /validate re-applies
			// the current rules and answers 403 (the reference forwardAuth
			// middleware's path; the plugin re-applies them at the token's
			// refresh point, docs/contract.md). A browser whose session lacks
			// the MFA now required is sent to sign in again instead (302).
			r := validateDirect(t, mintFor(t, user))
			want := http.StatusForbidden
			if user.OTP == "" { // no second factor: sent to sign in with one
				want = http.StatusFound
			}
			if r.StatusCode != want || want == http.StatusFound && !strings.HasPrefix(r.Header.Get("Location"), stack.AuthURL("/login")) {
				t.Fatalf("%s's session at /validate: status %d, Location %q; want %d", user.Username, r.StatusCode, r.Header.Get("Location"), want)
			}
		})
	}
}

// Scenario 3, logout: after signing out, the next navigation goes to the
// provider's sign-in page again.
func TestLogoutSendsNextNavigationToLogin(t *testing.T) {
	user := harness.Alice
	res, err := browser.Run(t.Context(), "scenario3-logout",
		harness.BrowserStep{Goto: stack.PlexURL("/web")},
		harness.BrowserStep{Login: &user},
		harness.BrowserStep{Goto: stack.AuthURL("/logout")},
		harness.BrowserStep{WaitURL: stack.AuthURL("/signed-out")},
		harness.BrowserStep{Goto: stack.PlexURL("/web")},
	)
	if err != nil {
		t.Fatal(err)
	}
	if signedIn := res.Steps[1]; !strings.Contains(signedIn.Text, "Signed in as "+user.Email) {
		t.Fatalf("sign-in did not reach Plex: %s %.200q", signedIn.URL, signedIn.Text)
	}
	again := res.Steps[4]
	if !strings.Contains(again.URL, "/interaction/") || !strings.Contains(again.Text, "Sign in") {
		t.Fatalf("after logout the Plex host showed %s %.300q, want the provider's sign-in page", again.URL, again.Text)
	}
	if c := res.Cookie(harness.CookieName); c != "" {
		t.Fatal("the session cookie survived the logout")
	}
}

// mintFor signs a session for user with forwardauth's key, as forwardauth
// mints it at a login (amr with mfa when the user has a second factor).
func mintFor(t *testing.T, user harness.User) string {
	t.Helper()
	key, err := os.ReadFile(filepath.Join(stack.RunDir, "session.pem"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := bench.NewMinter(key, stack.AuthURL(""))
	if err != nil {
		t.Fatal(err)
	}
	amr := []string{"pwd"}
	if user.OTP != "" {
		amr = append(amr, "mfa")
	}
	tok, err := m.MintFor("e2e-"+user.Username, user.Email, user.Name, user.Groups, amr)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
