package plugin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

var plexNamesForTest = spellings(plexTokenName)

// FuzzPlexToken reads Plex tokens from arbitrary headers and queries: it
// never panics; whatever token the hit path's quickQueryToken reads is the
// one the full plexToken reads, with no conflict; and a request reaches the
// upstream on the cached token "tok" (forwardauth refuses everything) only
// when plexToken reads exactly that token, so neither hit path lets a
// request through that the full reading would refuse.
func FuzzPlexToken(f *testing.F) {
	f.Add("tok", "", "", "")
	f.Add("", "", "", "X-Plex-Token=tok&a=b")
	f.Add("tok", "other", "", "X-Plex-Token=tok")
	f.Add("", "", "x", "url=%2Fthumb%3FX-Plex-Token%3Dtok&X-Plex-Token=tok")
	f.Add("", "", "", "a=1&x-plex-token=tok;X-Plex-Token=evil")
	f.Add("", "", "", "X-Plex-Token=tok&X-Plex-%54oken=evil")
	f.Add("", "", "", "X-Plex-Token=tok#&X-Plex-Token=evil")
	f.Add("", "", "", "X-Plex-Token=a+b&X-Plex-Token=a%20b")
	f.Add("", "", "", "X-Plex-Token=tok&url=/a%3Fb%3D%25zz")
	f.Add("", "", "", "X-Plex-Product=Plex%20Web&X-Plex-Token=tok")
	f.Add("", "", "", "X-Plex-Token=tok&X-Plex-T%6Fken=evil")
	f.Add("", "", "", "X-Plex-Token=tok&url=%2Fa%3FX-Plex-T%256Fken%3Devil")
	f.Add("tok", "", "plexgate_session=x", "")

	fa := newCompanion(f)
	fa.setAnswer(denyAll)
	clk := newClock()
	m, up, _ := newTestMiddleware(f, testConfig(fa.validateURL()), clk)
	cachePut(m.cache, plexKey("tok"), &identity{headers: []headerValue{{name: "X-Forwarded-User", values: []string{"owner"}}}},
		0, clk.now().UnixNano())

	f.Fuzz(func(t *testing.T, header, underscore, cookie, rawQuery string) {
		if !serverAccepts(header) || !serverAccepts(underscore) || !serverAccepts(cookie) {
			return // Traefik's HTTP server answers 400 before any middleware runs
		}
		req := httptest.NewRequest(http.MethodGet, "http://plex.example.com/", nil)
		req.URL.RawQuery = rawQuery
		if header != "" {
			req.Header["X-Plex-Token"] = []string{header}
		}
		if underscore != "" {
			req.Header["X_plex_token"] = []string{underscore}
		}
		if cookie != "" {
			req.Header["Cookie"] = []string{cookie}
		}
		tok, ok := plexToken(req, plexNamesForTest)
		if !ok && tok != "" {
			t.Fatalf("conflict returned token %q", tok)
		}
		if rawQuery != "" {
			quick := quickQueryToken(req.Header, rawQuery, plexNamesForTest[1:])
			if quick != "" && (!ok || tok != quick) {
				t.Fatalf("quickQueryToken read %q, plexToken %q ok %t (header %q, query %q)", quick, tok, ok, header, rawQuery)
			}
		}
		up.mu.Lock()
		before := up.calls
		up.mu.Unlock()
		serve(m, req)
		up.mu.Lock()
		passed := up.calls != before
		up.mu.Unlock()
		if passed && (!ok || tok != "tok") {
			t.Fatalf("let through on the cached token, but plexToken reads %q ok %t (header %q, query %q)", tok, ok, header, rawQuery)
		}
	})
}

// FuzzPlexTokenEncodings places two tokens in a request, each in the
// header, the query or a query value nested one or two levels deep: the
// request is refused exactly when they differ, and otherwise carries that
// token.
func FuzzPlexTokenEncodings(f *testing.F) {
	f.Add("owner", "owner", uint8(0), uint8(1))
	f.Add("owner", "other", uint8(2), uint8(3))
	f.Add("a b&c=d", "a b&c=d", uint8(3), uint8(1))
	f.Add("x%y", "x%y", uint8(2), uint8(2))
	f.Fuzz(func(t *testing.T, a, b string, placeA, placeB uint8) {
		if a == "" || b == "" || !serverAccepts(a) || !serverAccepts(b) {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "http://plex.example.com/", nil)
		q := url.Values{}
		for i, p := range []struct {
			tok   string
			place uint8
		}{{a, placeA}, {b, placeB}} {
			switch p.place % 4 {
			case 0:
				req.Header.Add("X-Plex-Token", p.tok)
			case 1:
				q.Add("X-Plex-Token", p.tok)
			case 2:
				q.Add("url", "/library/parts/1/thumb?"+url.Values{"X-Plex-Token": {p.tok}}.Encode())
			case 3:
				inner := "/photo/:/transcode?" + url.Values{"url": {"/thumb?" + url.Values{"X-Plex-Token": {p.tok}}.Encode()}}.Encode()
				q.Add("u"+string(rune('0'+i)), inner)
			}
		}
		req.URL.RawQuery = q.Encode()
		tok, ok := plexToken(req, plexNamesForTest)
		if a != b {
			if ok {
				t.Fatalf("%q and %q (places %d, %d) not refused: got %q; query %q", a, b, placeA%4, placeB%4, tok, req.URL.RawQuery)
			}
			return
		}
		if !ok || tok != a {
			t.Fatalf("token %q (places %d, %d): got %q ok %t; query %q", a, placeA%4, placeB%4, tok, ok, req.URL.RawQuery)
		}
	})
}
