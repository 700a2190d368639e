package plugin

import (
	"net/http"
	"testing"
	"time"
)

// nopWriter is a reusable ResponseWriter that discards everything.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// browserRequest is a page load by Chrome 131 carrying cookie, as Traefik
// hands it to its middlewares: the browser's 15 headers plus the 6 that
// Traefik's entrypoint adds.
func browserRequest(cookie string) *http.Request {
	req := request("theme=dark; " + cookie)
	addBrowserHeaders(req.Header)
	addTraefikHeaders(req.Header)
	return req
}

// addBrowserHeaders adds what Chrome sends with a page load besides Cookie.
func addBrowserHeaders(h http.Header) {
	h.Set("Cache-Control", "max-age=0")
	h.Set("Sec-Ch-Ua", `"Chromium";v="131", "Not_A Brand";v="24"`)
	h.Set("Sec-Ch-Ua-Mobile", "?0")
	h.Set("Sec-Ch-Ua-Platform", `"Linux"`)
	h.Set("Upgrade-Insecure-Requests", "1")
	h.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8")
	h.Set("Sec-Fetch-Site", "none")
	h.Set("Sec-Fetch-Mode", "navigate")
	h.Set("Sec-Fetch-User", "?1")
	h.Set("Sec-Fetch-Dest", "document")
	h.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	h.Set("Accept-Language", "en-US,en;q=0.9")
	h.Set("Priority", "u=0, i")
}

// addTraefikHeaders adds what Traefik's entrypoint sets on every request
// before the middlewares run.
func addTraefikHeaders(h http.Header) {
	h.Set("X-Forwarded-For", "192.0.2.7")
	h.Set("X-Forwarded-Host", "plex.example.com")
	h.Set("X-Forwarded-Port", "443")
	h.Set("X-Forwarded-Proto", "https")
	h.Set("X-Forwarded-Server", "traefik-1")
	h.Set("X-Real-Ip", "192.0.2.7")
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

func benchMiddleware(b *testing.B, cfg *Config) *Middleware {
	b.Helper()
	m, err := newMiddleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), cfg, "bench",
		options{now: func() time.Time { return testNow }, log: newLogger(&logBuffer{}, "bench", 0)})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkHit(b *testing.B) {
	key := newTestKey(b)
	cfg := testConfig("http://127.0.0.1:1/validate")
	cfg.PublicKeys = key.pem
	m := benchMiddleware(b, cfg)
	req := browserRequest(sessionCookie(edToken(b, key, goodClaims())))
	m.ServeHTTP(&nopWriter{h: http.Header{}}, req) // verify once, then hits
	benchServe(b, m, req, true)
}

func BenchmarkLocalVerifyMissEdDSA(b *testing.B) {
	key := newTestKey(b)
	cfg := testConfig("http://127.0.0.1:1/validate")
	cfg.PublicKeys = key.pem
	cfg.CacheTTL = "0" // every request verifies
	benchServe(b, benchMiddleware(b, cfg), browserRequest(sessionCookie(edToken(b, key, goodClaims()))), true)
}

func BenchmarkLocalVerifyMissHS256(b *testing.B) {
	cfg := testConfig("http://127.0.0.1:1/validate")
	cfg.HMACSecret = testSecret
	cfg.CacheTTL = "0"
	benchServe(b, benchMiddleware(b, cfg), browserRequest(sessionCookie(hsToken(b, goodClaims()))), true)
}

func BenchmarkDelegateMiss(b *testing.B) {
	fa := newCompanion(b)
	cfg := testConfig(fa.validateURL())
	cfg.CacheTTL = "0" // every request asks forwardauth over loopback HTTP
	benchServe(b, benchMiddleware(b, cfg), browserRequest(sessionCookie("opaque")), true)
}
