package handler

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/plexgate/plexgate/forwardauth/plex"
)

// FuzzValidatePlexToken sends /validate arbitrary Plex tokens in the header
// and the forwarded URI, with Plex tokens on: it never answers 5xx, allows
// only the one token Extract finds when that token is allowed (and only the
// owner's on a token-handing path), never redirects a request that carries
// a token, and never sends a Location with a 401.
func FuzzValidatePlexToken(f *testing.F) {
	f.Add("/library/sections?X-Plex-Token="+aliceTok, "")
	f.Add("/photo/:/transcode?url=%2Flibrary%3FX-Plex-Token%3D"+aliceTok, ownerTok)
	f.Add("/security/token?type=delegation&X-Plex-Token="+transTok, "")
	f.Add("/myplex/account", bobShare)
	f.Add("/web/index.html?x-plex-token="+ownerTok+"&X-Plex-Token="+ownerTok, ownerTok)
	e, _ := plexEnv(f, nil)
	allowed := map[string]string{ownerTok: "owner", aliceTok: "alice", bobShare: "bob", transTok: "plex-transient"}
	f.Fuzz(func(t *testing.T, uri, header string) {
		req := httptest.NewRequest(http.MethodGet, "http://forwardauth:4181/validate", nil)
		req.Header = http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"plex.example.com"},
			"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {uri}}
		if header != "" {
			req.Header.Set("X-Plex-Token", header)
		}
		tok, err := plex.Extract(req.Header, uri)
		resp := e.do(req)
		switch resp.StatusCode {
		case http.StatusOK:
			user := resp.Header.Get("X-Forwarded-User")
			if err != nil || allowed[tok] == "" || user != allowed[tok] {
				t.Fatalf("allowed %q as %q (extracted %q, %v)", uri, user, tok, err)
			}
			if user != "owner" && e.srv.plex.paths.Match(uri) {
				t.Fatalf("%s allowed on token-handing path %q", user, uri)
			}
		case http.StatusFound:
			if tok != "" || err != nil {
				t.Fatalf("a request with a Plex token was redirected: %q", uri)
			}
		case http.StatusUnauthorized:
			if resp.Header.Get("Location") != "" {
				t.Fatal("a 401 with a Location")
			}
		case http.StatusForbidden, http.StatusBadRequest:
		default:
			t.Fatalf("status %d for %q / %q", resp.StatusCode, uri, header)
		}
	})
}
