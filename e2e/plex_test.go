package e2e

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
	"github.com/plexgate/plexgate/e2e/plexstub"
)

// Plex apps through the gate: Plex tokens verified by forwardauth with the
// stand-in plex.tv, on both doors (443 and 32400), through the real Traefik
// and the plugin.

// door is one gated way to the Plex host.
type door struct {
	name string
	url  func(path string) string
}

func doors() []door {
	return []door{{"443", stack.PlexURL}, {"32400", stack.PlexURL32400}}
}

// app is a Plex app's request headers: JSON, no cookie, the token in the
// header when tok is set.
func app(tok string) http.Header {
	h := http.Header{"Accept": {"application/json"}, "X-Plex-Product": {"Plex for iOS"}}
	if tok != "" {
		h.Set("X-Plex-Token", tok)
	}
	return h
}

// lastPlexRequest is the stand-in Plex's record of the request to path
// made since from, or fails.
func lastPlexRequest(t *testing.T, from int, path string) plexstub.Request {
	t.Helper()
	reqs := stack.Plex.Requests()[from:]
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Path == path {
			return reqs[i]
		}
	}
	t.Fatalf("Plex saw no %s request (saw %d others)", path, len(reqs))
	return plexstub.Request{}
}

// gateLetThrough reports whether a request that came through Traefik (Host
// the Plex host) reached the stand-in Plex since from. forwardauth's own
// calls to Plex (its /identity, a transient token's check) do not count.
func gateLetThrough(from int) bool {
	for _, r := range stack.Plex.Requests()[from:] {
		if host, _, _ := strings.Cut(r.Host, ":"); host == harness.PlexHost {
			return true
		}
	}
	return false
}

func notePlexSecrets() {
	a := stack.PlexAccounts
	for what, tok := range map[string]string{"the owner's Plex token": a.Owner.Token, "the friend's Plex token": a.Friend.Token,
		"the friend's share token": a.FriendShare, "friend 2's share token": a.Friend2Share, "a stranger's Plex token": a.Stranger.Token} {
		noteSecret(what, tok)
	}
}

func TestPlexOwnerTokenOpensBothDoorsInEveryPlace(t *testing.T) {
	notePlexSecrets()
	owner := stack.PlexAccounts.Owner
	nested := "/photo/:/transcode?width=240&height=360&url=" + url.QueryEscape("/library/metadata/1/thumb/1?X-Plex-Token="+owner.Token)
	for _, d := range doors() {
		for _, tc := range []struct {
			name, target string
			header       http.Header
		}{
			{"header", "/library/sections", app(owner.Token)},
			{"query", "/library/sections?X-Plex-Token=" + owner.Token, app("")},
			{"nested url=", nested, app("")},
		} {
			t.Run(d.name+"/"+tc.name, func(t *testing.T) {
				seen := len(stack.Plex.Requests())
				r := get(t, d.url(tc.target), tc.header)
				if r.status != http.StatusOK {
					t.Fatalf("status %d body %.200q", r.status, r.body)
				}
				path, _, _ := strings.Cut(tc.target, "?")
				got := lastPlexRequest(t, seen, path)
				if got.User != owner.Username || got.TokenKind != plexstub.KindAccount {
					t.Fatalf("Plex saw user %q token kind %q, want %s with the account token", got.User, got.TokenKind, owner.Username)
				}
			})
		}
	}
}

func TestPlexShareTokensOfFriends(t *testing.T) {
	a := stack.PlexAccounts
	for _, d := range doors() {
		t.Run("with plex_friends/"+d.name, func(t *testing.T) {
			seen := len(stack.Plex.Requests())
			if r := get(t, d.url("/library/sections"), app(a.FriendShare)); r.status != http.StatusOK {
				t.Fatalf("status %d body %.200q", r.status, r.body)
			}
			if got := lastPlexRequest(t, seen, "/library/sections"); got.User != a.Friend.Username || got.TokenKind != plexstub.KindShare {
				t.Fatalf("Plex saw user %q kind %q", got.User, got.TokenKind)
			}
		})
	}
	t.Run("without plex_friends", func(t *testing.T) {
		reconfigure(t, func(c *harness.ForwardauthConfig) { c.Plex.Friends = false })
		seen := len(stack.Plex.Requests())
		if r := get(t, stack.PlexURL("/library/sections"), app(a.Friend2Share)); r.status != http.StatusForbidden {
			t.Fatalf("a friend's share token without plex_friends: status %d, want 403", r.status)
		}
		if gateLetThrough(seen) {
			t.Fatal("the request reached Plex")
		}
	})
}

// reconfigure restarts forwardauth with change applied, and restores it
// when the test ends.
func reconfigure(t *testing.T, change func(*harness.ForwardauthConfig)) {
	t.Helper()
	if err := stack.Forwardauth.Reconfigure(t.Context(), change); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		restore := stack.Forwardauth.Reconfigure(ctx, func(c *harness.ForwardauthConfig) { c.Plex.Friends = true })
		if restore != nil {
			t.Errorf("restoring forwardauth: %v", restore)
		}
	})
}

func TestPlexTokensThatMayNotEnter(t *testing.T) {
	a := stack.PlexAccounts
	for _, d := range doors() {
		for _, tc := range []struct {
			name   string
			header http.Header
			target string
			want   int
		}{
			{"an account no rule allows", app(a.Stranger.Token), "/library/sections", http.StatusForbidden},
			{"an invalid token", app("not-a-plex-token-0123"), "/library/sections", http.StatusUnauthorized},
			{"conflicting tokens", app(a.Owner.Token), "/library/sections?X-Plex-Token=" + a.Stranger.Token, http.StatusUnauthorized},
			{"an app without any credential", app(""), "/library/sections", http.StatusUnauthorized},
		} {
			t.Run(d.name+"/"+tc.name, func(t *testing.T) {
				seen := len(stack.Plex.Requests())
				r := get(t, d.url(tc.target), tc.header)
				if r.status != tc.want || r.header.Get("Location") != "" {
					t.Fatalf("status %d Location %q, want %d and no redirect", r.status, r.header.Get("Location"), tc.want)
				}
				if gateLetThrough(seen) {
					t.Fatal("the request reached Plex")
				}
			})
		}
		t.Run(d.name+"/a browser without a session", func(t *testing.T) {
			r := get(t, d.url("/web/index.html"), http.Header{"Accept": {"text/html"}})
			if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), stack.AuthURL("/login")) {
				t.Fatalf("status %d Location %q, want the login", r.status, r.header.Get("Location"))
			}
		})
	}
}

func TestPlexNotificationWebsocketWithQueryToken(t *testing.T) {
	owner := stack.PlexAccounts.Owner
	for _, d := range doors() {
		t.Run(d.name, func(t *testing.T) {
			wss := "wss" + strings.TrimPrefix(d.url("/:/websockets/notifications?X-Plex-Token="+owner.Token), "https")
			conn, resp, err := websocketDialer().DialContext(t.Context(), wss, nil)
			if err != nil {
				t.Fatalf("dial: %v (response %+v)", err, resp)
			}
			defer conn.Close()
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, msg, err := conn.ReadMessage()
			if err != nil || !strings.Contains(string(msg), `"user":"`+owner.Username+`"`) {
				t.Fatalf("greeting %q, %v", msg, err)
			}
		})
	}
}

func TestPlexWebAppCORSPreflightThenTheCall(t *testing.T) {
	owner := stack.PlexAccounts.Owner
	for _, d := range doors() {
		t.Run(d.name, func(t *testing.T) {
			seen := len(stack.Plex.Requests())
			target := d.url("/library/sections?X-Plex-Product=Plex%20Web&X-Plex-Client-Identifier=e2e")
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, target, nil)
			req.Header.Set("Origin", "https://app.plex.tv")
			req.Header.Set("Access-Control-Request-Method", "GET")
			req.Header.Set("Access-Control-Request-Headers", "x-plex-token")
			resp, err := stack.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.plex.tv" {
				t.Fatalf("preflight: status %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
			pre := lastPlexRequest(t, seen, "/library/sections")
			_, email := pre.IdentityHeaders["X-Forwarded-Email"]
			_, groups := pre.IdentityHeaders["X-Forwarded-Groups"]
			if pre.Method != http.MethodOptions || pre.User != "" || email || groups {
				t.Fatalf("Plex saw the preflight as %+v, want OPTIONS without identity", pre)
			}
			h := app(owner.Token)
			h.Set("Origin", "https://app.plex.tv")
			r := get(t, target, h)
			if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "https://app.plex.tv" {
				t.Fatalf("the call: status %d, Allow-Origin %q", r.status, r.header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
}

func TestPlexTransientTokenWorksButNotOnTheTokenPaths(t *testing.T) {
	owner := stack.PlexAccounts.Owner
	r := get(t, stack.PlexURL("/security/token?type=delegation&scope=all"), app(owner.Token))
	var mc struct {
		Token string `xml:"token,attr"`
	}
	if err := xml.Unmarshal([]byte(r.body), &mc); r.status != http.StatusOK || err != nil || !strings.HasPrefix(mc.Token, "transient-") {
		t.Fatalf("the owner asking for a transient token: status %d (%v) %.200q", r.status, err, r.body)
	}
	noteSecret("a transient Plex token", mc.Token)
	for _, d := range doors() {
		t.Run(d.name, func(t *testing.T) {
			seen := len(stack.Plex.Requests())
			if r := get(t, d.url("/library/sections"), app(mc.Token)); r.status != http.StatusOK {
				t.Fatalf("the transient token: status %d body %.200q", r.status, r.body)
			}
			if got := lastPlexRequest(t, seen, "/library/sections"); got.TokenKind != plexstub.KindTransient {
				t.Fatalf("Plex saw token kind %q", got.TokenKind)
			}
			for _, target := range []string{"/myplex/account", "/security/token?type=delegation&scope=all", "/MyPlex/account?X-Plex-Token=" + mc.Token} {
				seen := len(stack.Plex.Requests())
				if r := get(t, d.url(target), app(mc.Token)); r.status != http.StatusForbidden {
					t.Fatalf("%s with the transient token: status %d, want 403", target, r.status)
				}
				if gateLetThrough(seen) {
					t.Fatalf("%s with the transient token reached Plex", target)
				}
			}
		})
	}
}

func TestPlexTVDownKeepsKnownTokensRefusesNewOnes(t *testing.T) {
	a := stack.PlexAccounts
	if r := get(t, stack.PlexURL("/library/sections"), app(a.Owner.Token)); r.status != http.StatusOK {
		t.Fatalf("before the outage: status %d", r.status)
	}
	t.Cleanup(func() { awaitPlexTVBack(t) })
	for _, outage := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		t.Run(http.StatusText(outage), func(t *testing.T) {
			stack.PlexTV.SetOutage(outage)
			t.Cleanup(func() { stack.PlexTV.SetOutage(plexstub.Up) })
			for _, d := range doors() {
				if r := get(t, d.url("/library/sections"), app(a.Owner.Token)); r.status != http.StatusOK {
					t.Errorf("%s: the owner's known token during the outage: status %d", d.name, r.status)
				}
				seen := len(stack.Plex.Requests())
				for name, tok := range map[string]string{"a valid token never seen": a.Friend.Token, "an unknown token": "never-seen-token-4242"} {
					if r := get(t, d.url("/library/sections"), app(tok)); r.status != http.StatusServiceUnavailable {
						t.Errorf("%s: %s during the outage: status %d, want 503", d.name, name, r.status)
					}
				}
				if gateLetThrough(seen) {
					t.Errorf("%s: a new token reached Plex while plex.tv was down", d.name)
				}
			}
		})
	}
}

// awaitPlexTVBack waits, after an outage, until forwardauth asks plex.tv
// again (its back-off has run out): a new token gets plex.tv's answer (401
// for an unknown one) instead of 503, so that later tests start clean.
func awaitPlexTVBack(t *testing.T) {
	client := stack.HTTPClient()
	deadline := time.Now().Add(3 * time.Minute)
	for n := 0; time.Now().Before(deadline); n++ {
		req, _ := http.NewRequest(http.MethodGet, stack.PlexURL("/library/sections"), nil)
		req.Header = app("after-the-outage-" + strconv.Itoa(n))
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Error("forwardauth still refuses new Plex tokens 3 minutes after plex.tv came back")
}
