package plugin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

var plexNamesForTest = spellings(plexTokenName)

// FuzzPlexToken reads Plex tokens from arbitrary headers and queries: it
// never panics, and whatever token the hit path's quickPlexToken reads is
// the one the full plexToken reads, with no conflict.
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
	f.Fuzz(func(t *testing.T, header, underscore, cookie, rawQuery string) {
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
		quick := quickPlexToken(req.Header, rawQuery, plexNamesForTest[1:])
		if quick != "" && (!ok || tok != quick) {
			t.Fatalf("quickPlexToken read %q, plexToken %q ok %t (header %q, query %q)", quick, tok, ok, header, rawQuery)
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
