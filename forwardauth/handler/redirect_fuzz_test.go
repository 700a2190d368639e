package handler

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzReturnURLCheck holds the return-URL check to its promise: whatever
// it accepts is an absolute http(s) URL without userinfo on an allowed
// host, reads the same after a round trip through url.Parse, and carries
// no character a browser would reinterpret (backslash, control, space).
func FuzzReturnURLCheck(f *testing.F) {
	for _, rd := range hostileReturnURLs {
		f.Add(rd)
	}
	for _, rd := range []string{site, "https://example.com/", "http://plex.example.com:32400/web?x=1#y",
		"https://auth.example.com/signed-out", "https://plex.example.com/%0d%0a", "https://a.b.example.com/x/../y"} {
		f.Add(rd)
	}
	r := newRedirects(nil, "example.com", "auth.example.com")
	f.Fuzz(func(t *testing.T, rd string) {
		u, err := r.check(rd)
		if err != nil {
			return
		}
		host := strings.ToLower(u.Hostname())
		if host != "example.com" && !strings.HasSuffix(host, ".example.com") {
			t.Fatalf("%q accepted with host %q", rd, host)
		}
		if u.User != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" {
			t.Fatalf("%q accepted: %#v", rd, u)
		}
		if strings.ContainsAny(rd, "\\ \t\r\n\x00\x7f") {
			t.Fatalf("%q accepted with a backslash, space or control character", rd)
		}
		authority := rd[strings.Index(rd, "//")+2:]
		if i := strings.IndexAny(authority, "/?#"); i >= 0 {
			authority = authority[:i]
		}
		if strings.ContainsAny(authority, "@%") {
			t.Fatalf("%q accepted with userinfo or escapes in its authority", rd)
		}
		again, err := url.Parse(u.String())
		if err != nil || !strings.EqualFold(again.Hostname(), u.Hostname()) || again.User != nil {
			t.Fatalf("%q does not survive a round trip: %q", rd, u.String())
		}
	})
}

// FuzzValidateRequest sends /validate arbitrary forwarded headers and
// cookies: it never panics, never answers 5xx, never allows without a
// session, and a login redirect only ever carries an allowed return URL.
func FuzzValidateRequest(f *testing.F) {
	f.Add("https", "plex.example.com", "/web/index.html", "plexgate_session=a.b.c", "Bearer x")
	f.Add("https", "evil.example", "//evil.example/", "plexgate_session=\"quoted\"; plexgate_session=", "")
	f.Add("HTTP", "plex.example.com:32400", "/?rd=https://evil.example", "a=b; plexgate_session=eyJhbGciOiJub25lIn0.e30.", "bearer  ")
	e := newEnv(f, nil)
	f.Fuzz(func(t *testing.T, proto, host, uri, cookie, auth string) {
		req := httptest.NewRequest(http.MethodGet, "http://forwardauth:4181/validate", nil)
		req.Header = http.Header{"X-Forwarded-Proto": {proto}, "X-Forwarded-Host": {host}, "X-Forwarded-Uri": {uri},
			"Cookie": {cookie}, "Authorization": {auth}}
		resp := e.do(req)
		switch {
		case resp.StatusCode >= 500:
			t.Fatalf("status %d", resp.StatusCode)
		case resp.StatusCode == http.StatusOK:
			t.Fatalf("allowed without a session: cookie %q auth %q", cookie, auth)
		case resp.StatusCode == http.StatusFound:
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || loc.Host != "auth.example.com" || loc.Path != "/login" {
				t.Fatalf("Location %q", resp.Header.Get("Location"))
			}
			if _, err := e.srv.redirects.check(loc.Query().Get("rd")); err != nil {
				t.Fatalf("login redirect carries a refused rd: %q", loc.Query().Get("rd"))
			}
		}
	})
}
