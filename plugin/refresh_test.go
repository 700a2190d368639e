package plugin

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// refreshing returns goodClaims with a refresh point at testNow + in.
func refreshing(in time.Duration) map[string]any {
	c := goodClaims()
	c["auth_time"] = testNow.Add(-time.Hour).Unix()
	c["rat"] = testNow.Add(in).Unix()
	return c
}

// localMiddleware is a middleware verifying key's tokens locally and
// delegating to fa.
func localMiddleware(t *testing.T, fa *companion, key testKey, clk *clock) (*Middleware, *upstream, *logBuffer) {
	t.Helper()
	cfg := testConfig(fa.validateURL())
	cfg.PublicKeys = key.pem
	return newTestMiddleware(t, cfg, clk)
}

// refreshAnswer is forwardauth refreshing a session: 200 with bob's
// identity and a fresh token in Set-Cookie.
func refreshAnswer(rw http.ResponseWriter, _ *http.Request) {
	rw.Header().Set("X-Forwarded-User", "bob@example.com")
	rw.Header().Add("Set-Cookie", "plexgate_session=fresh; Path=/; HttpOnly; Secure")
	rw.WriteHeader(http.StatusOK)
}

func TestTokenPastRefreshPointIsDelegatedAndTheFreshCookieRelayed(t *testing.T) {
	fa := newCompanion(t)
	fa.setAnswer(refreshAnswer)
	key := newTestKey(t)
	clk := newClock()
	m, up, _ := localMiddleware(t, fa, key, clk)
	tok := edToken(t, key, refreshing(30*time.Second))

	serve(m, request(sessionCookie(tok)))
	clk.advance(29 * time.Second)
	if rec := serve(m, request(sessionCookie(tok))); rec.Code != http.StatusOK || rec.Header().Get("Set-Cookie") != "" {
		t.Fatalf("before the refresh point: status %d, Set-Cookie %q", rec.Code, rec.Header().Get("Set-Cookie"))
	}
	if v, _ := fa.calls(); v != 0 {
		t.Fatalf("validate calls before the refresh point = %d, want 0", v)
	}
	clk.advance(time.Second) // at the refresh point: the cache entry is gone
	rec := serve(m, request(sessionCookie(tok)))
	if v, _ := fa.calls(); v != 1 || rec.Code != http.StatusOK {
		t.Fatalf("at the refresh point: validate calls %d, status %d; want 1, 200", v, rec.Code)
	}
	if got := rec.Header().Get("Set-Cookie"); got != "plexgate_session=fresh; Path=/; HttpOnly; Secure" {
		t.Fatalf("Set-Cookie to the client = %q", got)
	}
	if got := up.header.Get("X-Forwarded-User"); got != "bob@example.com" {
		t.Fatalf("upstream user %q, want forwardauth's answer", got)
	}
}

func TestRefreshAnswerIsCachedForTheTTL(t *testing.T) {
	fa := newCompanion(t)
	fa.setAnswer(refreshAnswer)
	key := newTestKey(t)
	clk := newClock()
	m, _, _ := localMiddleware(t, fa, key, clk)
	tok := edToken(t, key, refreshing(-time.Second))

	// A page load's parallel requests still carry the old cookie: one
	// refresh serves them all, for the Bearer case too.
	for i := 0; i < 3; i++ {
		serve(m, request(sessionCookie(tok)))
	}
	req := request("")
	req.Header.Set("Authorization", "Bearer "+tok)
	serve(m, req)
	if v, _ := fa.calls(); v != 1 {
		t.Fatalf("validate calls = %d, want 1", v)
	}
	clk.advance(5*time.Minute + time.Second)
	serve(m, request(sessionCookie(tok)))
	if v, _ := fa.calls(); v != 2 {
		t.Fatalf("validate calls after the TTL = %d, want 3", v)
	}
}

func TestTokenWithoutRefreshPointIsTrustedUntilExp(t *testing.T) {
	fa := newCompanion(t)
	key := newTestKey(t)
	clk := newClock()
	m, _, _ := localMiddleware(t, fa, key, clk)
	tok := edToken(t, key, goodClaims()) // minted before refresh points: no rat

	for i := 0; i < 3; i++ {
		if rec := serve(m, request(sessionCookie(tok))); rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		clk.advance(20 * time.Minute)
	}
	if v, _ := fa.calls(); v != 0 {
		t.Fatalf("validate calls = %d, want 0", v)
	}
}

func TestRefreshPointOfTheWrongTypeIsDueAtOnce(t *testing.T) {
	for _, rat := range []any{"soon", 0, -1, 1e300, []any{1}} {
		fa := newCompanion(t)
		key := newTestKey(t)
		m, _, _ := localMiddleware(t, fa, key, newClock())
		c := goodClaims()
		c["rat"] = rat
		serve(m, request(sessionCookie(edToken(t, key, c))))
		if v, _ := fa.calls(); v != 1 {
			t.Fatalf("rat %v: validate calls = %d, want 1", rat, v)
		}
	}
}

func TestUnreachableCompanionAtRefreshHonoursTokenUntilExp(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for name, url := range map[string]string{"unreachable": closed.URL + "/validate", "5xx": ""} {
		t.Run(name, func(t *testing.T) {
			fa := newCompanion(t)
			fa.setAnswer(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusBadGateway) })
			if url == "" {
				url = fa.validateURL()
			}
			key := newTestKey(t)
			clk := newClock()
			cfg := testConfig(url)
			cfg.PublicKeys = key.pem
			m, up, logs := newTestMiddleware(t, cfg, clk)
			c := refreshing(-time.Minute)
			c["exp"] = testNow.Add(10 * time.Minute).Unix()
			tok := edToken(t, key, c)

			for i := 0; i < 4; i++ {
				rec := serve(m, request(sessionCookie(tok)))
				if rec.Code != http.StatusOK || up.header.Get("X-Forwarded-User") != "alice@example.com" {
					t.Fatalf("minute %d: status %d, user %q", i*3, rec.Code, up.header.Get("X-Forwarded-User"))
				}
				clk.advance(3 * time.Minute)
			}
			clk.advance(time.Minute) // 13 minutes: past exp and the leeway
			calls := up.calls
			if rec := serve(m, request(sessionCookie(tok))); rec.Code < 500 || up.calls != calls {
				t.Fatalf("past exp: status %d, upstream reached: %v; want 5xx, no", rec.Code, up.calls != calls)
			}
			if n := strings.Count(logs.String(), "forwardauth unreachable or failing"); n != 1 {
				t.Fatalf("outage logged %d times, want once:\n%s", n, logs.String())
			}
			if strings.Contains(logs.String(), tok) {
				t.Fatal("token logged")
			}
		})
	}
}

func TestOutageIsLoggedWhenItStartsAndEnds(t *testing.T) {
	fa := newCompanion(t)
	key := newTestKey(t)
	clk := newClock()
	m, _, logs := localMiddleware(t, fa, key, clk)
	down := func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusServiceUnavailable) }
	for round, answer := range []func(http.ResponseWriter, *http.Request){down, down, allowAlice, down, allowAlice} {
		fa.setAnswer(answer)
		c := refreshing(-time.Second)
		c["sid"] = strings.Repeat("s", round+1) // a new token: no cache entry
		serve(m, request(sessionCookie(edToken(t, key, c))))
	}
	out := logs.String()
	if a, b := strings.Count(out, "forwardauth unreachable or failing"), strings.Count(out, "forwardauth answers again"); a != 2 || b != 2 {
		t.Fatalf("outage started %d, ended %d times; want 2, 2:\n%s", a, b, out)
	}
}

func TestDelegateOnlyModeAnswers503WhenCompanionIsDown(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	key := newTestKey(t)
	m, up, _ := newTestMiddleware(t, testConfig(closed.URL+"/validate"), newClock())
	// Without a key the plugin cannot tell this token from a forged one.
	if rec := serve(m, request(sessionCookie(edToken(t, key, refreshing(-time.Second))))); rec.Code != http.StatusServiceUnavailable || up.calls != 0 {
		t.Fatalf("status %d, upstream calls %d; want 503, 0", rec.Code, up.calls)
	}
}

func TestDelegatedUntil(t *testing.T) {
	key := newTestKey(t)
	now := testNow.UnixNano()
	exp := testNow.Add(time.Hour).UnixNano()
	cases := []struct {
		name  string
		token string
		want  int64
	}{
		{"before the refresh point: the refresh point", edToken(t, key, refreshing(time.Minute)), testNow.Add(time.Minute).UnixNano()},
		{"past the refresh point: exp", edToken(t, key, refreshing(-time.Minute)), exp},
		{"a refresh point after exp: exp", edToken(t, key, refreshing(2*time.Hour)), exp},
		{"no refresh point: exp", edToken(t, key, goodClaims()), exp},
		{"no exp: unknown", edToken(t, key, withClaim("exp", nil)), 0},
		{"not a JWT: unknown", "opaque-session-id", 0},
		{"bad payload: unknown", "a.b.c", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := delegatedUntil(tc.token, now); got != tc.want {
				t.Fatalf("delegatedUntil = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestRefreshNanos(t *testing.T) {
	cases := []struct {
		rat     any
		wantAt  int64
		wantHas bool
	}{
		{nil, 0, false},
		{float64(1700000000), 1700000000 * 1e9, true},
		{1700000000.9, 1700000000 * 1e9, true},
		{"1700000000", 0, true},
		{float64(0), 0, true},
		{float64(-5), 0, true},
		{1e11, math.MaxInt64, true}, // past 2262: never
		{float64(maxDate + 1), 0, true},
		{true, 0, true},
	}
	for _, tc := range cases {
		claims := map[string]any{}
		if tc.rat != nil {
			claims["rat"] = tc.rat
		}
		if at, has := refreshNanos(claims); at != tc.wantAt || has != tc.wantHas {
			t.Errorf("rat %v: (%d, %v), want (%d, %v)", tc.rat, at, has, tc.wantAt, tc.wantHas)
		}
	}
}
