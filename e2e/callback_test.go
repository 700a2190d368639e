package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plexgate/plexgate/e2e/harness"
)

// startLoginState calls /login and returns the state and its cookie ("name=value").
func startLoginState(t *testing.T) (state, cookie string) {
	t.Helper()
	r := get(t, stack.AuthURL("/login?rd="+url.QueryEscape(stack.PlexURL("/web"))), nil)
	loc, _ := url.Parse(r.header.Get("Location"))
	state = loc.Query().Get("state")
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if strings.HasSuffix(c.Name, "_login_"+state) {
			cookie = c.Name + "=" + c.Value
		}
	}
	if r.status != http.StatusFound || state == "" || cookie == "" {
		t.Fatalf("/login: status %d, Location %q", r.status, r.header.Get("Location"))
	}
	return state, cookie
}

// A code the real provider refuses (invalid_grant) is the request's fault:
// 400 with a link to a new login, no session, not the 502 of a broken provider.
func TestLoginWithARefusedCodeAnswers400AndLinksToTheLogin(t *testing.T) {
	state, cookie := startLoginState(t)
	cb := get(t, stack.AuthURL("/auth?state="+state+"&code=a-code-the-provider-never-issued"), http.Header{"Cookie": {cookie}})
	if cb.status != http.StatusBadRequest || !strings.Contains(cb.body, "Sign in again") || !strings.Contains(cb.body, `/login?rd=`) ||
		strings.Contains(cb.header.Get("Set-Cookie"), harness.CookieName+"=ey") {
		t.Fatalf("callback with a refused code: status %d, body %.400q", cb.status, cb.body)
	}
}
