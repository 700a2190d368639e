package plugin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	ownerToken  = "owner-token-Zx81kPq2"
	friendToken = "friend-share-Qm7Lw3"
)

// allowPlexTokens is forwardauth with Plex tokens enabled: the owner's
// token is allowed for ten minutes, the friend's with no-store, any other
// token is invalid (401, no Location), and a CORS preflight without a
// credential gets 204 (with an identity header the plugin must not pass on).
func allowPlexTokens(rw http.ResponseWriter, req *http.Request) {
	switch tok := req.Header.Get("X-Plex-Token"); {
	case tok == ownerToken:
		rw.Header().Set("X-Forwarded-User", "owner")
		rw.Header().Set("Cache-Control", "private, max-age=600")
	case tok == friendToken:
		rw.Header().Set("X-Forwarded-User", "friend")
		rw.Header().Set("Cache-Control", "no-store")
	case tok == "" && req.Header.Get("X-Forwarded-Method") == http.MethodOptions &&
		req.Header.Get("Origin") != "" && req.Header.Get("Access-Control-Request-Method") != "":
		rw.Header().Set("X-Forwarded-User", "must-not-pass")
		rw.WriteHeader(http.StatusNoContent)
	case tok == "" && strings.Contains(req.Header.Get("Cookie"), "plexgate_session=opaque"):
		allowAlice(rw, req)
	default:
		rw.Header().Set("WWW-Authenticate", `Bearer realm="plexgate"`)
		rw.WriteHeader(http.StatusUnauthorized)
	}
}

func plexMiddleware(t *testing.T) (*Middleware, *upstream, *companion, *clock, *logBuffer) {
	t.Helper()
	fa := newCompanion(t)
	fa.setAnswer(allowPlexTokens)
	clk := newClock()
	m, up, logs := newTestMiddleware(t, testConfig(fa.validateURL()), clk)
	return m, up, fa, clk, logs
}

// appRequest is a Plex app's request to target, the token in the header
// when header is set.
func appRequest(target, header string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "http://plex.example.com"+target, nil)
	req.RemoteAddr = "192.0.2.9:50000"
	req.Header.Set("Accept", "application/json")
	if header != "" {
		req.Header.Set("X-Plex-Token", header)
	}
	return req
}

func TestPlexTokenIsDelegatedThenAHitInEveryPlace(t *testing.T) {
	nested := "/photo/:/transcode?width=300&url=" + url.QueryEscape("/library/metadata/1/thumb?X-Plex-Token="+ownerToken)
	cases := []struct {
		name, target, header string
	}{
		{"header", "/library/sections", ownerToken},
		{"query", "/library/sections?X-Plex-Token=" + ownerToken, ""},
		{"query, lower-case name", "/library/sections?x-plex-token=" + ownerToken, ""},
		{"nested url=", nested, ""},
		{"header and the same token nested", nested, ownerToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, up, fa, _, _ := plexMiddleware(t)
			for i := 0; i < 3; i++ {
				rec := serve(m, appRequest(tc.target, tc.header))
				if rec.Code != http.StatusOK || up.header.Get("X-Forwarded-User") != "owner" {
					t.Fatalf("request %d: status %d, user %q", i, rec.Code, up.header.Get("X-Forwarded-User"))
				}
			}
			if v, _ := fa.calls(); v != 1 {
				t.Fatalf("validate calls = %d, want 1 (then hits)", v)
			}
			last := fa.last()
			if got := last.Header.Get("X-Plex-Token"); got != ownerToken {
				t.Fatalf("X-Plex-Token sent to /validate = %q", got)
			}
			if got := last.Header.Get("X-Forwarded-Uri"); got != tc.target {
				t.Fatalf("X-Forwarded-Uri = %q, want %q", got, tc.target)
			}
			if tc.header != "" && up.header.Get("X-Plex-Token") != ownerToken {
				t.Fatal("the X-Plex-Token header did not reach Plex")
			}
		})
	}
}

func TestPlexVerdictIsCachedForMaxAgeCappedByCacheTTL(t *testing.T) {
	m, _, fa, clk, _ := plexMiddleware(t) // max-age 600, CacheTTL 5m
	serve(m, appRequest("/", ownerToken))
	clk.advance(5*time.Minute - time.Second)
	serve(m, appRequest("/", ownerToken))
	if v, _ := fa.calls(); v != 1 {
		t.Fatalf("validate calls within the TTL = %d, want 1", v)
	}
	clk.advance(2 * time.Second)
	serve(m, appRequest("/", ownerToken))
	if v, _ := fa.calls(); v != 2 {
		t.Fatalf("validate calls past CacheTTL = %d, want 2 (the cap, not max-age 600)", v)
	}
}

func TestPlexVerdictFollowsCacheControl(t *testing.T) {
	cases := []struct {
		cacheControl []string
		wantCalls    int // for two requests 30 s apart
	}{
		{[]string{"private, max-age=600"}, 1},
		{[]string{"private, max-age=10"}, 2},
		{[]string{"private, max-age=0"}, 2},
		{[]string{"no-store"}, 2},
		{[]string{"private, no-store, max-age=600"}, 2},
		{[]string{"no-cache, max-age=600"}, 2},
		{[]string{"private"}, 2},
		{nil, 2},
		{[]string{"max-age=abc"}, 2},
		{[]string{"private", "max-age=600"}, 1},
		{[]string{`max-age="600"`}, 1},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.cacheControl, "|"), func(t *testing.T) {
			m, _, fa, clk, _ := plexMiddleware(t)
			fa.setAnswer(func(rw http.ResponseWriter, req *http.Request) {
				rw.Header()["Cache-Control"] = tc.cacheControl
				rw.Header().Set("X-Forwarded-User", "owner")
			})
			serve(m, appRequest("/", ownerToken))
			clk.advance(30 * time.Second)
			if rec := serve(m, appRequest("/", ownerToken)); rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if v, _ := fa.calls(); v != tc.wantCalls {
				t.Fatalf("validate calls = %d, want %d", v, tc.wantCalls)
			}
		})
	}
}

func TestPlexTokenDenialsAreRelayedAndNotCached(t *testing.T) {
	cases := []struct {
		name   string
		status int
	}{
		{"invalid token", http.StatusUnauthorized},
		{"not allowed", http.StatusForbidden},
		{"plex.tv unavailable", http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, up, fa, _, _ := plexMiddleware(t)
			fa.setAnswer(func(rw http.ResponseWriter, req *http.Request) { rw.WriteHeader(tc.status) })
			for i := 0; i < 2; i++ {
				rec := serve(m, appRequest("/library/sections?X-Plex-Token=someone-else", ""))
				if rec.Code != tc.status || rec.Header().Get("Location") != "" {
					t.Fatalf("status %d Location %q, want %d and none", rec.Code, rec.Header().Get("Location"), tc.status)
				}
			}
			if v, _ := fa.calls(); v != 2 || up.calls != 0 {
				t.Fatalf("validate calls %d (want 2), upstream calls %d (want 0)", v, up.calls)
			}
		})
	}
}

func TestConflictingPlexTokensAre401WithoutAsking(t *testing.T) {
	nestedOther := "/photo/:/transcode?X-Plex-Token=" + ownerToken + "&url=" + url.QueryEscape("/thumb?X-Plex-Token=other")
	cases := []struct {
		name, target, header string
		extra                map[string]string
	}{
		{"header and query differ", "/?X-Plex-Token=other", ownerToken, nil},
		{"two query values differ", "/?X-Plex-Token=" + ownerToken + "&X-Plex-Token=other", "", nil},
		{"nested differs", nestedOther, "", nil},
		{"empty and non-empty", "/?X-Plex-Token=&x-plex-token=" + ownerToken, "", nil},
		{"underscore header differs", "/", ownerToken, map[string]string{"X_plex_token": "other"}},
		{"query too deep", "/?a=" + url.QueryEscape("/b?c="+url.QueryEscape("/d?e="+url.QueryEscape("/f?X-Plex-Token=x"))), ownerToken, nil},
		{"unparseable query mentioning a token", "/?X-Plex-Token=" + ownerToken + "&X-Plex-Token=%zz", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, up, fa, _, logs := plexMiddleware(t)
			req := appRequest(tc.target, tc.header)
			for k, v := range tc.extra {
				req.Header[k] = []string{v}
			}
			rec := serve(m, req)
			if rec.Code != http.StatusUnauthorized || rec.Header().Get("Location") != "" {
				t.Fatalf("status %d, want 401 without Location", rec.Code)
			}
			if v, _ := fa.calls(); v != 0 || up.calls != 0 {
				t.Fatalf("validate calls %d, upstream calls %d, want none", v, up.calls)
			}
			if strings.Contains(logs.String(), ownerToken) {
				t.Fatal("a token was logged")
			}
		})
	}
}

func TestConflictingTokensAfterAHitAreStill401(t *testing.T) {
	m, up, _, _, _ := plexMiddleware(t)
	serve(m, appRequest("/", ownerToken)) // cached
	rec := serve(m, appRequest("/?X-Plex-Token=other", ownerToken))
	if rec.Code != http.StatusUnauthorized || up.calls != 1 {
		t.Fatalf("status %d, upstream calls %d: the cached token let a conflicting one through", rec.Code, up.calls)
	}
}

func TestSessionDecidesOverPlexToken(t *testing.T) {
	m, up, fa, _, _ := plexMiddleware(t)
	serve(m, appRequest("/", ownerToken)) // the owner's token is cached
	withBoth := func(session string) *http.Request {
		req := appRequest("/?X-Plex-Token="+ownerToken, ownerToken)
		req.Header.Set("Cookie", sessionCookie(session))
		return req
	}
	if rec := serve(m, withBoth("opaque")); rec.Code != http.StatusOK || up.header.Get("X-Forwarded-User") != "alice@example.com" {
		t.Fatalf("valid session: status %d user %q, want alice's session", rec.Code, up.header.Get("X-Forwarded-User"))
	}
	if got := fa.last().Header.Get("X-Plex-Token"); got != "" {
		t.Fatalf("a session's delegation carried X-Plex-Token %q", got)
	}
	if rec := serve(m, withBoth("revoked")); rec.Code != http.StatusUnauthorized {
		t.Fatalf("invalid session with a valid Plex token: status %d, want forwardauth's 401", rec.Code)
	}
	if up.calls != 2 {
		t.Fatalf("upstream calls %d, want 2", up.calls)
	}
}

func TestPreflightIsDelegatedUncachedAndPassedWithoutIdentity(t *testing.T) {
	m, up, fa, _, _ := plexMiddleware(t)
	preflight := func() *http.Request {
		req := appRequest("/library/sections", "")
		req.Method = http.MethodOptions
		req.Header.Set("Origin", "https://app.plex.tv")
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "x-plex-token")
		req.Header.Set("X-Forwarded-User", "mallory")
		return req
	}
	for i := 0; i < 2; i++ {
		rec := serve(m, preflight())
		if rec.Code != http.StatusOK || up.calls != i+1 {
			t.Fatalf("preflight %d: status %d, upstream calls %d", i, rec.Code, up.calls)
		}
		if u := up.header.Values("X-Forwarded-User"); len(u) != 0 {
			t.Fatalf("preflight reached Plex with identity %q", u)
		}
	}
	if v, _ := fa.calls(); v != 2 {
		t.Fatalf("validate calls = %d, want 2 (a preflight's answer is never cached)", v)
	}
	last := fa.last().Header
	if last.Get("X-Forwarded-Method") != http.MethodOptions || last.Get("Origin") != "https://app.plex.tv" ||
		last.Get("Access-Control-Request-Method") != "GET" {
		t.Fatalf("preflight delegated with %v", last)
	}
}

func TestOptionsThatIsNotAPreflightNeedsACredential(t *testing.T) {
	for _, drop := range []string{"Origin", "Access-Control-Request-Method"} {
		t.Run("without "+drop, func(t *testing.T) {
			m, up, fa, _, _ := plexMiddleware(t)
			req := appRequest("/library/sections", "")
			req.Method = http.MethodOptions
			req.Header.Set("Origin", "https://app.plex.tv")
			req.Header.Set("Access-Control-Request-Method", "GET")
			req.Header.Del(drop)
			if rec := serve(m, req); rec.Code != http.StatusUnauthorized || up.calls != 0 {
				t.Fatalf("status %d, upstream calls %d, want 401 and none", rec.Code, up.calls)
			}
			if got := fa.last().Header; got.Get("Origin") != "" || got.Get("Access-Control-Request-Method") != "" {
				t.Fatalf("a request that is not a preflight was delegated with CORS headers: %v", got)
			}
		})
	}
}

func TestPlexTokenHitReplacesForgedIdentity(t *testing.T) {
	m, up, _, _, _ := plexMiddleware(t)
	for i := 0; i < 2; i++ {
		req := appRequest("/?X-Plex-Token="+ownerToken, "")
		req.Header["X_forwarded_user"] = []string{"mallory"}
		req.Header.Set("X-Forwarded-User", "mallory")
		serve(m, req)
		if got := up.header.Values("X-Forwarded-User"); len(got) != 1 || got[0] != "owner" || up.header.Get("X_forwarded_user") != "" {
			t.Fatalf("round %d: upstream identity %v", i, up.header)
		}
	}
}

func TestPlexTokensAreNeitherLoggedNorCacheKeys(t *testing.T) {
	m, _, _, _, logs := plexMiddleware(t)
	serve(m, appRequest("/?X-Plex-Token="+ownerToken, ""))
	serve(m, appRequest("/?X-Plex-Token=unknown-token-123", ""))
	m.cache.mu.RLock()
	defer m.cache.mu.RUnlock()
	if len(m.cache.entries) != 1 {
		t.Fatalf("%d cache entries, want 1", len(m.cache.entries))
	}
	for k := range m.cache.entries {
		if strings.Contains(k, ownerToken) || k != plexKey(ownerToken) {
			t.Fatalf("cache key %q is not the token's hash", k)
		}
	}
	if l := logs.String(); strings.Contains(l, ownerToken) || strings.Contains(l, "unknown-token-123") {
		t.Fatalf("a token was logged:\n%s", l)
	}
}

func TestPlexTokenWithoutCompanionIs503(t *testing.T) {
	m, up, _ := newTestMiddleware(t, testConfig("http://127.0.0.1:1/validate"), newClock())
	if rec := serve(m, appRequest("/", ownerToken)); rec.Code != http.StatusServiceUnavailable || up.calls != 0 {
		t.Fatalf("status %d, upstream calls %d", rec.Code, up.calls)
	}
}

// forwardauth allows a non-owner's token everywhere but on the paths that
// hand out tokens: the plugin must not let its cached verdict decide there.
func TestTokenPathsAreAlwaysAskedAndNeverCached(t *testing.T) {
	m, up, fa, _, _ := plexMiddleware(t)
	fa.setAnswer(func(rw http.ResponseWriter, req *http.Request) {
		uri := strings.ToLower(req.Header.Get("X-Forwarded-Uri"))
		if strings.Contains(uri, "/myplex") || strings.Contains(uri, "/security/token") {
			rw.WriteHeader(http.StatusForbidden)
			return
		}
		rw.Header().Set("X-Forwarded-User", "plex-transient")
		rw.Header().Set("Cache-Control", "private, max-age=600")
	})
	serve(m, appRequest("/library/sections", "transient-abc"))
	serve(m, appRequest("/library/sections?X-Plex-Token=transient-abc", ""))
	if v, _ := fa.calls(); v != 1 || up.calls != 2 {
		t.Fatalf("validate calls %d, upstream %d: want 1 and 2 (the second a hit)", v, up.calls)
	}
	for i, target := range []string{"/myplex/account", "/MyPlex/account", "/a/../myplex/account", "//myplex", "/security/token?type=delegation&scope=all"} {
		for _, inQuery := range []bool{false, true} {
			req := appRequest(target, "transient-abc")
			if inQuery {
				sep := "?"
				if strings.Contains(target, "?") {
					sep = "&"
				}
				req = appRequest(target+sep+"X-Plex-Token=transient-abc", "")
			}
			if rec := serve(m, req); rec.Code != http.StatusForbidden {
				t.Fatalf("%s (query %t): status %d, want forwardauth's 403", target, inQuery, rec.Code)
			}
		}
		if v, _ := fa.calls(); v != 1+2*(i+1) {
			t.Fatalf("%s: validate calls %d: a token path was answered from the cache", target, v)
		}
	}
	if up.calls != 2 {
		t.Fatalf("upstream calls %d: a token path reached Plex", up.calls)
	}
	// The owner is allowed there, but that answer is not cached either.
	fa.setAnswer(func(rw http.ResponseWriter, req *http.Request) {
		rw.Header().Set("X-Forwarded-User", "owner")
		rw.Header().Set("Cache-Control", "private, max-age=600")
	})
	before, _ := fa.calls()
	serve(m, appRequest("/security/token", ownerToken))
	serve(m, appRequest("/security/token", ownerToken))
	if v, _ := fa.calls(); v != before+2 || up.calls != 4 {
		t.Fatalf("owner on a token path: validate calls %d (want %d), upstream %d", v, before+2, up.calls)
	}
}

func TestPlexTokenPathsOption(t *testing.T) {
	for _, tc := range []struct {
		paths   []string
		wantErr bool
		match   map[string]bool
	}{
		{nil, false, map[string]bool{"/myplex/account": false}},
		{[]string{"/custom/"}, false, map[string]bool{"/custom": true, "/Custom/x": true, "/customer": false, "/myplex/": false}},
		{[]string{"relative"}, true, nil},
		{[]string{"/"}, true, nil},
		{[]string{"/a?b"}, true, nil},
		{[]string{"/a%2f"}, true, nil},
	} {
		cfg := testConfig("http://127.0.0.1:1/validate")
		cfg.PlexTokenPaths = tc.paths
		s, err := cfg.parse()
		if (err != nil) != tc.wantErr {
			t.Fatalf("%q: err %v, want error %t", tc.paths, err, tc.wantErr)
		}
		for p, want := range tc.match {
			if got := s.tokenPaths != nil && s.tokenPaths.MatchString(p); got != want {
				t.Errorf("%q matches %s = %t, want %t", tc.paths, p, got, want)
			}
		}
	}
}
