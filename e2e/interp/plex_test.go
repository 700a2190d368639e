package interp

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
)

// plexOwnerToken looks like the 20-character tokens plex.tv issues.
const plexOwnerToken = "Zx81kPq2mW7Lw3Rt9vBn"

// plexForwardauth allows the owner's Plex token for ten minutes and a CORS
// preflight without a credential; it refuses anything else with 401.
type plexForwardauth struct {
	srv   *httptest.Server
	calls atomic.Int64
	last  atomic.Value // http.Header
}

func newPlexForwardauth(tb testing.TB) *plexForwardauth {
	fa := &plexForwardauth{}
	fa.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		fa.calls.Add(1)
		fa.last.Store(req.Header.Clone())
		switch {
		case req.Header.Get("X-Plex-Token") == plexOwnerToken:
			rw.Header().Set("X-Forwarded-User", "owner")
			rw.Header().Set("Cache-Control", "private, max-age=600")
		case req.Header.Get("X-Forwarded-Method") == http.MethodOptions && req.Header.Get("Origin") != "":
			rw.Header().Set("X-Forwarded-User", "must-not-pass")
			rw.WriteHeader(http.StatusNoContent)
		default:
			rw.WriteHeader(http.StatusUnauthorized)
		}
	}))
	tb.Cleanup(fa.srv.Close)
	return fa
}

func plexRequest(method, target, header string) *http.Request {
	req := httptest.NewRequest(method, "http://plex.example.com"+target, nil)
	req.Header.Set("Accept", "application/json")
	if header != "" {
		req.Header.Set("X-Plex-Token", header)
	}
	return req
}

func TestInterpretedPlexTokens(t *testing.T) {
	nested := "/photo/:/transcode?url=" + url.QueryEscape("/library/metadata/1/thumb?X-Plex-Token="+plexOwnerToken)
	cases := []struct {
		name, method, target, header string
		origin                       bool
		rounds                       int
		wantStatus                   int
		wantUser                     string
		wantCalls                    int64
	}{
		{"header token delegated once, then hits", http.MethodGet, "/library/sections", plexOwnerToken, false, 3, http.StatusOK, "owner", 1},
		{"query token delegated once, then hits", http.MethodGet, "/library/sections?X-Plex-Token=" + plexOwnerToken, "", false, 3, http.StatusOK, "owner", 1},
		{"nested token delegated once, then hits", http.MethodGet, nested, "", false, 2, http.StatusOK, "owner", 1},
		{"unknown token refused each time", http.MethodGet, "/?X-Plex-Token=unknown", "", false, 2, http.StatusUnauthorized, "", 2},
		{"conflicting tokens refused without asking", http.MethodGet, "/?X-Plex-Token=other", plexOwnerToken, false, 2, http.StatusUnauthorized, "", 0},
		{"preflight passed without identity, never cached", http.MethodOptions, "/library/sections", "", true, 2, http.StatusOK, "", 2},
		{"token path asked every time, never cached", http.MethodGet, "/MyPlex/account", plexOwnerToken, false, 2, http.StatusOK, "owner", 2},
		{"OPTIONS that is no preflight refused", http.MethodOptions, "/library/sections", "", false, 1, http.StatusUnauthorized, "", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fa := newPlexForwardauth(t)
			up := &recorder{}
			h := mustHandler(t, map[string]any{"ValidateURL": fa.srv.URL + "/validate"}, up)
			for i := 0; i < tc.rounds; i++ {
				req := plexRequest(tc.method, tc.target, tc.header)
				req.Header.Set("X-Forwarded-User", "mallory")
				if tc.origin {
					req.Header.Set("Origin", "https://app.plex.tv")
					req.Header.Set("Access-Control-Request-Method", "GET")
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != tc.wantStatus {
					t.Fatalf("round %d: status %d, want %d", i, rec.Code, tc.wantStatus)
				}
				if rec.Code == http.StatusOK && up.lastUser() != tc.wantUser {
					t.Fatalf("round %d: upstream user %q, want %q", i, up.lastUser(), tc.wantUser)
				}
			}
			if got := fa.calls.Load(); got != tc.wantCalls {
				t.Fatalf("validate calls %d, want %d", got, tc.wantCalls)
			}
			if tc.wantCalls > 0 && tc.header != "" {
				if got := fa.last.Load().(http.Header).Get("X-Plex-Token"); got != tc.header {
					t.Fatalf("X-Plex-Token sent to /validate %q", got)
				}
			}
		})
	}
}
