package plugin

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// allowOnlyBearer is forwardauth allowing a request only for its Bearer
// token: the session cookies it carries are all stale.
func allowOnlyBearer(rw http.ResponseWriter, req *http.Request) {
	if req.Header.Get("Authorization") == "" {
		rw.WriteHeader(http.StatusUnauthorized)
		return
	}
	allowAlice(rw, req)
}

func TestSameCookieHeaderIsAnsweredByItsLineEntry(t *testing.T) {
	fa := newCompanion(t)
	m, up, _ := newTestMiddleware(t, testConfig(fa.validateURL()), newClock())
	line := "theme=dark; " + sessionCookie("opaque-session")

	if rec := serve(m, request(line)); rec.Code != http.StatusOK {
		t.Fatalf("first request: status %d", rec.Code)
	}
	if n := m.cache.size(); n != 2 {
		t.Fatalf("cache size %d after the first request, want 2 (token and Cookie header)", n)
	}
	// Without the token's entry, only the line entry can allow the request:
	// forwardauth now refuses everything.
	m.cache.mu.Lock()
	delete(m.cache.entries, "opaque-session")
	m.cache.mu.Unlock()
	fa.setAnswer(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusUnauthorized) })
	if rec := serve(m, request(line)); rec.Code != http.StatusOK || up.header.Get("X-Forwarded-User") != "alice@example.com" {
		t.Fatalf("same Cookie header: status %d, user %q; want a hit", rec.Code, up.header.Get("X-Forwarded-User"))
	}
	if v, _ := fa.calls(); v != 1 {
		t.Fatalf("validate calls = %d, want 1", v)
	}
}

func TestBearerAnswerIsNeverFiledUnderTheCookieHeader(t *testing.T) {
	fa := newCompanion(t)
	fa.setAnswer(allowOnlyBearer)
	key := newTestKey(t)
	tok := edToken(t, key, goodClaims())
	for _, local := range []bool{false, true} {
		name := map[bool]string{false: "delegated", true: "verified locally"}[local]
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(fa.validateURL())
			if local {
				cfg.PublicKeys = key.pem
			}
			m, _, _ := newTestMiddleware(t, cfg, newClock())
			withBearer := request(sessionCookie("stale"))
			withBearer.Header.Set("Authorization", "Bearer "+tok)
			if rec := serve(m, withBearer); rec.Code != http.StatusOK {
				t.Fatalf("cookie + bearer: status %d", rec.Code)
			}
			// The same cookies without the token must not pass.
			if rec := serve(m, request(sessionCookie("stale"))); rec.Code != http.StatusUnauthorized {
				t.Fatalf("the stale cookie alone: status %d, want 401", rec.Code)
			}
		})
	}
}

func TestChangedCookieHeaderHitsThroughTheTokenAndIsFiled(t *testing.T) {
	fa := newCompanion(t)
	m, _, _ := newTestMiddleware(t, testConfig(fa.validateURL()), newClock())
	for i, line := range []string{"a=1; " + sessionCookie("opaque-session"), "a=2; " + sessionCookie("opaque-session")} {
		if rec := serve(m, request(line)); rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d", i, rec.Code)
		}
	}
	if v, _ := fa.calls(); v != 1 {
		t.Fatalf("validate calls = %d, want 1 (the second Cookie header hits through the token)", v)
	}
	if n := m.cache.size(); n != 3 {
		t.Fatalf("cache size %d, want 3 (one token, two Cookie headers)", n)
	}
}

func TestLongCookieHeaderIsServedButNotFiled(t *testing.T) {
	fa := newCompanion(t)
	m, _, _ := newTestMiddleware(t, testConfig(fa.validateURL()), newClock())
	line := "pad=" + strings.Repeat("x", maxLineKeyBytes) + "; " + sessionCookie("opaque-session")
	for i := 0; i < 2; i++ {
		if rec := serve(m, request(line)); rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d", i, rec.Code)
		}
	}
	if v, _ := fa.calls(); v != 1 || m.cache.size() != 1 {
		t.Fatalf("validate calls %d, cache size %d; want 1 and 1 (the token only)", v, m.cache.size())
	}
}

func TestCookieHeaderEntryExpiresWithItsToken(t *testing.T) {
	fa := newCompanion(t)
	key := newTestKey(t)
	clk := newClock()
	m, _, _ := newTestMiddleware(t, testConfig(fa.validateURL()), clk) // delegate mode
	line := sessionCookie(edToken(t, key, withClaim("exp", testNow.Add(time.Minute).Unix())))

	serve(m, request(line))
	serve(m, request(line))
	clk.advance(61 * time.Second)
	fa.setAnswer(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusUnauthorized) })
	if rec := serve(m, request(line)); rec.Code != http.StatusUnauthorized {
		t.Fatalf("after the token's exp: status %d, want 401 from forwardauth", rec.Code)
	}
	if v, _ := fa.calls(); v != 2 {
		t.Fatalf("validate calls = %d, want 2", v)
	}
}

func TestDisabledCacheFilesNoCookieHeader(t *testing.T) {
	fa := newCompanion(t)
	cfg := testConfig(fa.validateURL())
	cfg.CacheTTL = "0"
	m, _, _ := newTestMiddleware(t, cfg, newClock())
	serve(m, request(sessionCookie("opaque-session")))
	serve(m, request(sessionCookie("opaque-session")))
	if v, _ := fa.calls(); v != 2 || m.cache.size() != 0 {
		t.Fatalf("validate calls %d, cache size %d; want 2 and 0", v, m.cache.size())
	}
}

// A Bearer request that also carries an unrelated cookie (theme=dark) and
// is allowed must not file its answer under that Cookie header: the next
// request with only theme=dark has no credential and is refused.
func TestBearerAnswerIsNeverFiledUnderAnUnrelatedCookie(t *testing.T) {
	key := newTestKey(t)
	for _, tc := range []struct {
		name, bearer string
		local        bool
	}{
		{"delegated", "opaque-api-token", false},
		{"verified locally", edToken(t, key, goodClaims()), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fa := newCompanion(t)
			fa.setAnswer(allowOnlyBearer)
			cfg := testConfig(fa.validateURL())
			if tc.local {
				cfg.PublicKeys = key.pem
			}
			m, up, _ := newTestMiddleware(t, cfg, newClock())
			withBearer := request("theme=dark")
			withBearer.Header.Set("Authorization", "Bearer "+tc.bearer)
			if rec := serve(m, withBearer); rec.Code != http.StatusOK || up.calls != 1 || up.header.Get("X-Forwarded-User") != "alice@example.com" {
				t.Fatalf("bearer + theme=dark: status %d, upstream calls %d, user %q", rec.Code, up.calls, up.header.Get("X-Forwarded-User"))
			}
			if !cached(m.cache, tc.bearer, testNow) {
				t.Fatal("the Bearer token's answer was not cached")
			}
			if rec := serve(m, request("theme=dark")); rec.Code != http.StatusUnauthorized || up.calls != 1 {
				t.Fatalf("theme=dark alone: status %d, upstream calls %d; want 401 and no upstream call", rec.Code, up.calls)
			}
		})
	}
}
