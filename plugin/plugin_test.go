package plugin

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDelegatedAllowIsCachedUntilTTL(t *testing.T) {
	fa := newCompanion(t)
	clk := newClock()
	m, up, _ := newTestMiddleware(t, testConfig(fa.validateURL()), clk)

	for i := 0; i < 3; i++ {
		if rec := serve(m, request(sessionCookie("opaque-session"))); rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d", i, rec.Code)
		}
	}
	if v, _ := fa.calls(); v != 1 {
		t.Fatalf("validate calls = %d, want 1 (then cache hits)", v)
	}
	if got := up.header.Get("X-Forwarded-User"); got != "alice@example.com" {
		t.Fatalf("X-Forwarded-User on hit = %q", got)
	}
	if got := up.header.Get("X-Not-Configured"); got != "" {
		t.Fatalf("unconfigured answer header passed on: %q", got)
	}
	clk.advance(5*time.Minute + time.Second)
	serve(m, request(sessionCookie("opaque-session")))
	if v, _ := fa.calls(); v != 2 {
		t.Fatalf("validate calls after TTL = %d, want 2", v)
	}
}

func TestDelegatedAllowIsCachedNoLongerThanTokenExp(t *testing.T) {
	fa := newCompanion(t)
	key := newTestKey(t)
	clk := newClock()
	m, _, _ := newTestMiddleware(t, testConfig(fa.validateURL()), clk) // no local key
	tok := edToken(t, key, withClaim("exp", testNow.Add(time.Minute).Unix()))

	serve(m, request(sessionCookie(tok)))
	serve(m, request(sessionCookie(tok)))
	clk.advance(61 * time.Second)
	serve(m, request(sessionCookie(tok)))
	if v, _ := fa.calls(); v != 2 {
		t.Fatalf("validate calls = %d, want 2 (entry dropped at exp, before the 5m TTL)", v)
	}
}

func TestLocalVerificationSetsHeadersFromHdrClaim(t *testing.T) {
	fa := newCompanion(t)
	key := newTestKey(t)
	cfg := testConfig(fa.validateURL())
	cfg.PublicKeys = key.pem
	m, up, _ := newTestMiddleware(t, cfg, newClock())

	rec := serve(m, request(sessionCookie(edToken(t, key, goodClaims()))))
	if rec.Code != http.StatusOK || up.calls != 1 {
		t.Fatalf("status %d, upstream calls %d", rec.Code, up.calls)
	}
	if v, _ := fa.calls(); v != 0 {
		t.Fatalf("validate calls = %d, want 0", v)
	}
	want := map[string]string{
		"X-Forwarded-User": "alice@example.com", "X-Forwarded-Email": "alice@example.com",
		"X-Forwarded-Groups": "plex-users,admins", "X-Other": "",
	}
	for name, value := range want {
		if got := up.header.Get(name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
}

// hdr names are canonical (docs/contract.md): a value is taken only under
// the configured name as written, and only when it can be a header value.
// (A value that is not a string makes the token invalid: see
// TestVerifierAcceptsAndRejects.)
func TestHdrValuesThatCannotBeHeadersAreDropped(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1/validate")
	cfg.HMACSecret = testSecret
	cfg.AuthResponseHeaders = append(cfg.AuthResponseHeaders, "Remote-Name")
	m, up, _ := newTestMiddleware(t, cfg, newClock())
	c := goodClaims()
	c["hdr"] = map[string]any{
		"X-Forwarded-User": "alice\r\nX-Admin: 1", "X-Forwarded-Email": "alice@example.com\x00",
		"remote-name": "Alice", "X-Other": "x",
	}
	if rec := serve(m, request(sessionCookie(hsToken(t, c)))); rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	for _, name := range []string{"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups", "Remote-Name", "X-Admin", "X-Other"} {
		if v, ok := up.header[name]; ok {
			t.Errorf("%s = %q reached the upstream", name, v)
		}
	}
	c["hdr"] = map[string]any{"X-Forwarded-User": "alice@example.com", "Remote-Name": "Alice"}
	if rec := serve(m, request(sessionCookie(hsToken(t, c)))); rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if up.header.Get("X-Forwarded-User") != "alice@example.com" || up.header.Get("Remote-Name") != "Alice" {
		t.Fatalf("identity headers: %v", up.header)
	}
}

func TestLocallyVerifiedEntryExpiresAtTokenExp(t *testing.T) {
	fa := newCompanion(t)
	key := newTestKey(t)
	cfg := testConfig(fa.validateURL())
	cfg.PublicKeys = key.pem
	cfg.CacheTTL = "1h"
	clk := newClock()
	m, _, _ := newTestMiddleware(t, cfg, clk)
	tok := edToken(t, key, withClaim("exp", testNow.Add(10*time.Minute).Unix()))

	serve(m, request(sessionCookie(tok)))
	clk.advance(11 * time.Minute) // past exp and the 30s leeway
	fa.setAnswer(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusUnauthorized) })
	if rec := serve(m, request(sessionCookie(tok))); rec.Code != http.StatusUnauthorized {
		t.Fatalf("expired token: status %d, want 401 from forwardauth", rec.Code)
	}
}

func TestTokenFailingLocalVerificationIsDelegated(t *testing.T) {
	fa := newCompanion(t)
	key, stranger := newTestKey(t), newTestKey(t)
	cfg := testConfig(fa.validateURL())
	cfg.PublicKeys = key.pem
	m, _, logs := newTestMiddleware(t, cfg, newClock())
	tok := edToken(t, stranger, goodClaims())

	if rec := serve(m, request(sessionCookie(tok))); rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if v, _ := fa.calls(); v != 1 {
		t.Fatalf("validate calls = %d, want 1", v)
	}
	if strings.Contains(logs.String(), tok) || !strings.Contains(logs.String(), "unknown key id") {
		t.Fatalf("log should give the reason and never the token:\n%s", logs.String())
	}
}

func TestVerifiedTokenWithoutHdrClaimIsDelegated(t *testing.T) {
	fa := newCompanion(t)
	cfg := testConfig(fa.validateURL())
	cfg.HMACSecret = testSecret
	m, up, _ := newTestMiddleware(t, cfg, newClock())

	serve(m, request(sessionCookie(hsToken(t, withClaim("hdr", nil)))))
	if v, _ := fa.calls(); v != 1 || up.header.Get("X-Forwarded-User") != "alice@example.com" {
		t.Fatalf("validate calls = %d, user %q", v, up.header.Get("X-Forwarded-User"))
	}
}

func TestEveryCredentialIsTried(t *testing.T) {
	fa := newCompanion(t)
	key := newTestKey(t)
	cfg := testConfig(fa.validateURL())
	cfg.PublicKeys = key.pem
	tok := edToken(t, key, goodClaims())
	cases := []struct {
		name string
		req  func() *http.Request
	}{
		{"second of two same-named cookies", func() *http.Request {
			return request("plexgate_session=stale; other=1; plexgate_session=" + tok)
		}},
		{"bearer token", func() *http.Request {
			req := request("")
			req.Header.Set("Authorization", "bearer "+tok)
			return req
		}},
		{"bearer token after a stale cookie", func() *http.Request {
			req := request("plexgate_session=stale")
			req.Header.Set("Authorization", "Bearer "+tok)
			return req
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, up, _ := newTestMiddleware(t, cfg, newClock())
			for i := 0; i < 2; i++ { // local verification, then the cache
				if rec := serve(m, tc.req()); rec.Code != http.StatusOK || up.header.Get("X-Forwarded-User") == "" {
					t.Fatalf("request %d: status %d, user %q", i, rec.Code, up.header.Get("X-Forwarded-User"))
				}
			}
			if v, _ := fa.calls(); v != 0 {
				t.Fatalf("validate calls = %d, want 0", v)
			}
		})
	}
}

func TestAnswerForSeveralCredentialsIsNotCached(t *testing.T) {
	fa := newCompanion(t)
	m, _, _ := newTestMiddleware(t, testConfig(fa.validateURL()), newClock())
	for i := 0; i < 2; i++ {
		serve(m, request("plexgate_session=a; plexgate_session=b"))
	}
	if v, _ := fa.calls(); v != 2 || m.cache.size() != 0 {
		t.Fatalf("validate calls = %d, cache size %d; want 2, 0", v, m.cache.size())
	}
}

func TestJWKSIsFetchedOnUnknownKid(t *testing.T) {
	fa := newCompanion(t)
	first, second := newTestKey(t), newTestKey(t)
	fa.jwks = jwksJSON(first)
	cfg := testConfig(fa.validateURL())
	cfg.JWKSURL = fa.jwksURL()
	clk := newClock()
	m, _, _ := newTestMiddleware(t, cfg, clk)

	serve(m, request(sessionCookie(edToken(t, first, goodClaims()))))
	if v, j := fa.calls(); v != 0 || j != 1 {
		t.Fatalf("after first key: validate %d, jwks %d; want 0, 1", v, j)
	}
	// A key published after the last fetch: within the interval it is not
	// fetched again, the request is delegated.
	fa.mu.Lock()
	fa.jwks = jwksJSON(first, second)
	fa.mu.Unlock()
	serve(m, request(sessionCookie(edToken(t, second, goodClaims()))))
	if v, j := fa.calls(); v != 1 || j != 1 {
		t.Fatalf("within interval: validate %d, jwks %d; want 1, 1", v, j)
	}
	clk.advance(time.Minute)
	serve(m, request(sessionCookie(edToken(t, second, withClaim("sid", "s2")))))
	if v, j := fa.calls(); v != 1 || j != 2 {
		t.Fatalf("after interval: validate %d, jwks %d; want 1, 2", v, j)
	}
}

func TestConcurrentUnknownKidsShareOneJWKSFetch(t *testing.T) {
	fa := newCompanion(t)
	key := newTestKey(t)
	fa.jwks = jwksJSON(key)
	fa.jwksHold = make(chan struct{})
	cfg := testConfig(fa.validateURL())
	cfg.JWKSURL = fa.jwksURL()
	m, up, _ := newTestMiddleware(t, cfg, newClock())

	const n = 8
	codes := make(chan int, n)
	for i := 0; i < n; i++ {
		tok := edToken(t, key, withClaim("sid", strings.Repeat("s", i+1)))
		go func() { codes <- serve(m, request(sessionCookie(tok))).Code }()
	}
	time.Sleep(100 * time.Millisecond) // let the requests pile up behind the fetch
	close(fa.jwksHold)
	for i := 0; i < n; i++ {
		if code := <-codes; code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	}
	if v, j := fa.calls(); v != 0 || j != 1 || up.calls != n {
		t.Fatalf("validate %d, jwks %d, upstream %d; want 0, 1, %d", v, j, up.calls, n)
	}
}

func TestFailedJWKSFetchDelegatesAndIsRateLimited(t *testing.T) {
	fa := newCompanion(t)
	key := newTestKey(t)
	fa.jwks = "not json"
	cfg := testConfig(fa.validateURL())
	cfg.JWKSURL = fa.jwksURL()
	m, _, logs := newTestMiddleware(t, cfg, newClock())
	for i := 0; i < 3; i++ {
		if rec := serve(m, request(sessionCookie(edToken(t, key, withClaim("sid", strings.Repeat("x", i+1)))))); rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
	}
	if v, j := fa.calls(); v != 3 || j != 1 {
		t.Fatalf("validate %d, jwks %d; want 3, 1", v, j)
	}
	if !strings.Contains(logs.String(), "jwks fetch failed") {
		t.Fatalf("missing log line:\n%s", logs.String())
	}
}

func TestNewMakesNoNetworkCall(t *testing.T) {
	fa := newCompanion(t)
	cfg := testConfig(fa.validateURL())
	cfg.JWKSURL = fa.jwksURL()
	if _, err := New(context.Background(), &upstream{}, cfg, "plexgate"); err != nil {
		t.Fatal(err)
	}
	if v, j := fa.calls(); v != 0 || j != 0 {
		t.Fatalf("New called the companion: validate %d, jwks %d", v, j)
	}
}
