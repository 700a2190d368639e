package interp

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// nopWriter is a reusable ResponseWriter that discards everything.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// benchServe runs req through the interpreted h b.N times, removing the
// identity headers set by the previous iteration (in compiled test code)
// so that every iteration sees a fresh browser request.
func benchServe(b *testing.B, h http.Handler, req *http.Request) {
	b.Helper()
	addBrowserHeaders(req.Header)
	addTraefikHeaders(req.Header)
	benchLoop(b, h, req)
	if req.Header.Get("X-Forwarded-User") == "" {
		b.Fatal("request was not allowed")
	}
}

func benchLoop(b *testing.B, h http.Handler, req *http.Request) {
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
}

// addBrowserHeaders adds what Chrome 131 sends with a page load besides
// Cookie (the same set as the plugin's compiled benchmarks).
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

var nop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

func BenchmarkInterpretedHit(b *testing.B) {
	key := newKeyPair(b)
	h := mustHandler(b, map[string]any{"ValidateURL": "http://127.0.0.1:1/validate", "PublicKeys": key.pem}, nop)
	req := request(edToken(key, claims("bench")))
	h.ServeHTTP(httptest.NewRecorder(), req) // verify once, then hits
	benchServe(b, h, req)
}

func BenchmarkInterpretedLocalVerifyMissEdDSA(b *testing.B) {
	key := newKeyPair(b)
	h := mustHandler(b, map[string]any{"ValidateURL": "http://127.0.0.1:1/validate", "PublicKeys": key.pem, "CacheTTL": "0"}, nop)
	benchServe(b, h, request(edToken(key, claims("bench"))))
}

func BenchmarkInterpretedLocalVerifyMissHS256(b *testing.B) {
	h := mustHandler(b, map[string]any{"ValidateURL": "http://127.0.0.1:1/validate", "HMACSecret": testSecret, "CacheTTL": "0"}, nop)
	benchServe(b, h, request(hsToken(claims("bench"))))
}

func BenchmarkInterpretedDelegateMiss(b *testing.B) {
	fa := newForwardauth(b)
	h := mustHandler(b, map[string]any{"ValidateURL": fa.srv.URL + "/validate", "CacheTTL": "0"}, nop)
	benchServe(b, h, request("good"))
}

// BenchmarkInterpretedFloor is the least any Yaegi middleware costs here:
// an interpreted ServeHTTP that only calls next. It puts the plugin's
// figures in context.
func BenchmarkInterpretedFloor(b *testing.B) {
	i := interp.New(interp.Options{})
	if err := i.Use(stdlib.Symbols); err != nil {
		b.Fatal(err)
	}
	_, err := i.Eval(`package floor
import "net/http"
type H struct{ next http.Handler }
func (h *H) ServeHTTP(rw http.ResponseWriter, req *http.Request) { h.next.ServeHTTP(rw, req) }
func New(next http.Handler) http.Handler { return &H{next: next} }`)
	if err != nil {
		b.Fatal(err)
	}
	v, err := i.Eval("floor.New")
	if err != nil {
		b.Fatal(err)
	}
	h := v.Interface().(func(http.Handler) http.Handler)(nop)
	req := request("x")
	addBrowserHeaders(req.Header)
	addTraefikHeaders(req.Header)
	benchLoop(b, h, req)
}
