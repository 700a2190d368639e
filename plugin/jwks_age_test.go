package plugin

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// jwksMiddleware fetches keys from fa's JWKS, currently keys, and asks fa
// (which denies) about everything it cannot verify.
func jwksMiddleware(t *testing.T, fa *companion, clk *clock, keys ...testKey) (*Middleware, *upstream, *logBuffer) {
	t.Helper()
	fa.setAnswer(denyAll)
	publish(fa, keys...)
	cfg := testConfig(fa.validateURL())
	cfg.JWKSURL = fa.jwksURL()
	cfg.CacheTTL = "10m" // longer than JWKSMaxAge: the key's trust must bound the entries
	return newTestMiddleware(t, cfg, clk)
}

// publish replaces the key set fa serves.
func publish(fa *companion, keys ...testKey) {
	fa.mu.Lock()
	fa.jwks = jwksJSON(keys...)
	fa.mu.Unlock()
}

// allowed reports whether tok reaches the upstream.
func allowed(m *Middleware, up *upstream, tok string) bool {
	before := up.calls
	return serve(m, request(sessionCookie(tok))).Code == http.StatusOK && up.calls == before+1
}

func TestKeyRemovedFromJWKSIsRefusedAfterJWKSMaxAge(t *testing.T) {
	fa := newCompanion(t)
	retired, current := newTestKey(t), newTestKey(t)
	clk := newClock()
	m, up, _ := jwksMiddleware(t, fa, clk, current, retired)
	retiredTok, currentTok := edToken(t, retired, goodClaims()), edToken(t, current, goodClaims())
	if !allowed(m, up, retiredTok) || !allowed(m, up, currentTok) {
		t.Fatal("tokens of published keys refused")
	}
	publish(fa, current)
	clk.advance(4 * time.Minute)
	if !allowed(m, up, retiredTok) {
		t.Fatal("within JWKSMaxAge the copy is trusted")
	}
	clk.advance(time.Minute) // the copy is 5m old: its cache entries expire, it is re-read
	if allowed(m, up, retiredTok) {
		t.Fatal("token of a key no longer published still allowed after JWKSMaxAge")
	}
	if !allowed(m, up, currentTok) {
		t.Fatal("token of a key still published refused")
	}
	if _, j := fa.calls(); j != 2 {
		t.Fatalf("jwks fetches %d, want 2", j)
	}
}

func TestCacheEntriesOfADroppedKeyGoWithIt(t *testing.T) {
	fa := newCompanion(t)
	retired, current, added := newTestKey(t), newTestKey(t), newTestKey(t)
	clk := newClock()
	m, up, _ := jwksMiddleware(t, fa, clk, current, retired)
	retiredTok := edToken(t, retired, goodClaims())
	if !allowed(m, up, retiredTok) || !allowed(m, up, retiredTok) {
		t.Fatal("token of a published key refused")
	}
	publish(fa, current, added)
	clk.advance(time.Minute) // past JWKSMinRefreshInterval, within JWKSMaxAge
	if !allowed(m, up, edToken(t, added, goodClaims())) {
		t.Fatal("token of a newly published key refused") // this re-read drops retired
	}
	if allowed(m, up, retiredTok) {
		t.Fatal("cache entry of a dropped key still used")
	}
}

func TestFailedJWKSReReadKeepsTheKeysAndRetriesPerInterval(t *testing.T) {
	fa := newCompanion(t)
	key := newTestKey(t)
	clk := newClock()
	m, up, logs := jwksMiddleware(t, fa, clk, key)
	tok := edToken(t, key, goodClaims())
	allowed(m, up, tok)
	fa.mu.Lock()
	fa.jwks = "unavailable"
	fa.mu.Unlock()
	clk.advance(5 * time.Minute)
	for i := 0; i < 5; i++ { // 5m to 6m40s: one failed fetch at 5m, one retry at 6m
		if !allowed(m, up, tok) {
			t.Fatalf("%s: session refused while the JWKS cannot be read", 5*time.Minute+time.Duration(i)*20*time.Second)
		}
		clk.advance(20 * time.Second)
	}
	if _, j := fa.calls(); j != 3 {
		t.Fatalf("jwks fetches %d, want 3 (first, failed re-read, one retry a minute later)", j)
	}
	if n := strings.Count(logs.String(), "jwks fetch failed, keeping the keys"); n != 2 {
		t.Fatalf("%d failure lines, want 2:\n%s", n, logs.String())
	}
}

func TestJWKSReReadIsOneFetchAndDoesNotHoldKnownKeys(t *testing.T) {
	fa := newCompanion(t)
	key := newTestKey(t)
	clk := newClock()
	m, up, logs := jwksMiddleware(t, fa, clk, key)
	allowed(m, up, edToken(t, key, goodClaims()))
	clk.advance(5 * time.Minute)
	hold := make(chan struct{})
	fa.mu.Lock()
	fa.jwksHold = hold
	fa.mu.Unlock()
	first := make(chan bool)
	// Concurrent requests: the status alone tells (forwardauth denies).
	ok := func(tok string) bool { return serve(m, request(sessionCookie(tok))).Code == http.StatusOK }
	go func() { first <- ok(edToken(t, key, withClaim("sid", "re-reads"))) }()
	for { // wait until the first request's fetch has reached forwardauth
		if _, j := fa.calls(); j == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		tok := edToken(t, key, withClaim("sid", strings.Repeat("p", i+1)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !ok(tok) {
				t.Error("request with a known key refused during a re-read")
			}
		}()
	}
	wg.Wait() // they finish while the fetch is still held
	select {
	case <-first:
		t.Fatal("the re-read ended before it was released: the other requests waited for it")
	default:
	}
	close(hold)
	if !<-first {
		t.Fatal("request that re-read the JWKS refused")
	}
	if strings.Contains(logs.String(), "jwks fetch failed") {
		t.Fatalf("the held fetch failed (timed out while requests waited):\n%s", logs.String())
	}
	if _, j := fa.calls(); j != 2 {
		t.Fatalf("jwks fetches %d, want 2", j)
	}
}

func TestFloodOfUnknownKidsFetchesAtMostOncePerInterval(t *testing.T) {
	fa := newCompanion(t)
	key := newTestKey(t)
	clk := newClock()
	m, up, _ := jwksMiddleware(t, fa, clk, key)
	allowed(m, up, edToken(t, key, goodClaims()))
	for i := 0; i < 50; i++ {
		head := b64JSON(t, map[string]any{"alg": "EdDSA", "kid": strings.Repeat("k", i+1)})
		serve(m, request(sessionCookie(signRaw(head, b64JSON(t, goodClaims()), "EdDSA", key, nil))))
		clk.advance(time.Second)
	}
	if _, j := fa.calls(); j != 1 {
		t.Fatalf("jwks fetches %d in 50s, want 1", j)
	}
}

func TestTrustedUntil(t *testing.T) {
	inline := newTestKey(t)
	ks := &keySet{inline: map[string][]byte{inline.kid: inline.pub}, url: "http://x", interval: time.Minute, maxAge: 5 * time.Minute}
	if got := ks.trustedUntil("fetched"); got != 0 {
		t.Fatalf("nothing fetched: %d, want 0", got)
	}
	ks.fetched = map[string][]byte{"fetched": inline.pub}
	ks.fetchedAt, ks.lastFetch = testNow, testNow
	cases := []struct {
		name, kid string
		lastFetch time.Time
		want      int64
	}{
		{"inline key: no bound", inline.kid, testNow, 0},
		{"fetched key: fetched + JWKSMaxAge", "fetched", testNow, testNow.Add(5 * time.Minute).UnixNano()},
		{"token without kid: fetched + JWKSMaxAge", "", testNow, testNow.Add(5 * time.Minute).UnixNano()},
		{"after a failed re-read: the next retry", "fetched", testNow.Add(10 * time.Minute), testNow.Add(11 * time.Minute).UnixNano()},
	}
	for _, tc := range cases {
		ks.lastFetch = tc.lastFetch
		if got := ks.trustedUntil(tc.kid); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
