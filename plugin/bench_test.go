package plugin

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"testing"
	"time"
)

// nopWriter is a reusable ResponseWriter that discards everything.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// browserRequest is a page load by Chrome 131 carrying cookie, as Traefik
// hands it to its middlewares: the browser's headers plus the six that
// Traefik's entrypoint adds (testdata/page-load.http, shared with the
// interpreted benchmarks in e2e/interp).
func browserRequest(cookie string) *http.Request {
	raw, err := os.ReadFile("testdata/page-load.http")
	if err != nil {
		panic(err)
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		panic(err)
	}
	req.RemoteAddr = "192.0.2.7:51000"
	req.Header.Set("Cookie", "theme=dark; "+cookie)
	return req
}

// benchServe runs req through h b.N times. The identity headers set by the
// previous iteration are removed first, so every iteration sees what a
// fresh browser request carries.
func benchServe(b *testing.B, h http.Handler, req *http.Request, wantUser bool) {
	b.Helper()
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		delete(req.Header, "X-Forwarded-User")
		delete(req.Header, "X-Forwarded-Email")
		delete(req.Header, "X-Forwarded-Groups")
		h.ServeHTTP(w, req)
	}
	b.StopTimer()
	if wantUser && req.Header.Get("X-Forwarded-User") == "" {
		b.Fatal("request was not allowed")
	}
}

// benchMiddleware builds the middleware with the real clock, as in
// production (reading it is part of every request's cost).
func benchMiddleware(b *testing.B, cfg *Config) *Middleware {
	b.Helper()
	m, err := newMiddleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), cfg, "bench",
		options{log: newLogger(&logBuffer{}, "bench", 0)})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// liveClaims are goodClaims dated by the real clock.
func liveClaims() map[string]any {
	c := goodClaims()
	now := time.Now()
	c["iat"], c["nbf"], c["exp"] = now.Add(-time.Minute).Unix(), now.Add(-time.Minute).Unix(), now.Add(time.Hour).Unix()
	return c
}

func BenchmarkHit(b *testing.B) {
	key := newTestKey(b)
	cfg := testConfig("http://127.0.0.1:1/validate")
	cfg.PublicKeys = key.pem
	m := benchMiddleware(b, cfg)
	req := browserRequest(sessionCookie(edToken(b, key, liveClaims())))
	m.ServeHTTP(&nopWriter{h: http.Header{}}, req) // verify once, then hits
	benchServe(b, m, req, true)
}

func BenchmarkLocalVerifyMissEdDSA(b *testing.B) {
	key := newTestKey(b)
	cfg := testConfig("http://127.0.0.1:1/validate")
	cfg.PublicKeys = key.pem
	cfg.CacheTTL = "0" // every request verifies
	benchServe(b, benchMiddleware(b, cfg), browserRequest(sessionCookie(edToken(b, key, liveClaims()))), true)
}

func BenchmarkLocalVerifyMissHS256(b *testing.B) {
	cfg := testConfig("http://127.0.0.1:1/validate")
	cfg.HMACSecret = testSecret
	cfg.CacheTTL = "0"
	benchServe(b, benchMiddleware(b, cfg), browserRequest(sessionCookie(hsToken(b, liveClaims()))), true)
}

func BenchmarkDelegateMiss(b *testing.B) {
	fa := newCompanion(b)
	cfg := testConfig(fa.validateURL())
	cfg.CacheTTL = "0" // every request asks forwardauth over loopback HTTP
	benchServe(b, benchMiddleware(b, cfg), browserRequest(sessionCookie("opaque")), true)
}

// plexWebQuery is the query Plex Web puts on its API calls, the token last.
const plexWebQuery = "X-Plex-Product=Plex%20Web&X-Plex-Version=4.145.1&X-Plex-Client-Identifier=k8w2x7m1q9z3v5b4n6c0d8f2&X-Plex-Platform=Chrome&X-Plex-Platform-Version=131.0&X-Plex-Device=Linux&X-Plex-Language=en&X-Plex-Token="

// benchPlexToken is a Plex token as plex.tv issues them (20 characters).
const benchPlexToken = "xZ7pQ2mK9sLw4RtYv1Bn"

// plexHitBench measures a Plex-token hit: the browser request of the
// cookie benchmarks with no Cookie, its token in the header or the query.
func plexHitBench(b *testing.B, inQuery bool) {
	fa := newCompanion(b)
	fa.setAnswer(func(rw http.ResponseWriter, req *http.Request) {
		rw.Header().Set("X-Forwarded-User", "owner")
		rw.Header().Set("Cache-Control", "private, max-age=3600")
	})
	m := benchMiddleware(b, testConfig(fa.validateURL()))
	req := browserRequest("")
	delete(req.Header, "Cookie")
	if inQuery {
		req.URL.RawQuery = plexWebQuery + benchPlexToken
	} else {
		req.Header.Set("X-Plex-Token", benchPlexToken)
	}
	m.ServeHTTP(&nopWriter{h: http.Header{}}, req) // delegate once, then hits
	if v, _ := fa.calls(); v != 1 {
		b.Fatalf("validate calls %d, want 1", v)
	}
	benchServe(b, m, req, true)
	if v, _ := fa.calls(); v != 1 {
		b.Fatalf("validate calls %d: not every request was a hit", v)
	}
}

func BenchmarkPlexTokenHitHeader(b *testing.B) { plexHitBench(b, false) }

func BenchmarkPlexTokenHitQuery(b *testing.B) { plexHitBench(b, true) }
