package interp

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	addPageLoadHeaders(b, req.Header)
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

// addPageLoadHeaders adds the headers of a page load by Chrome 131 as
// Traefik hands it to its middlewares, browser's and Traefik's own, from
// the plugin's plugin/testdata/page-load.http (the compiled benchmarks'
// request); the Cookie header is left as it is.
func addPageLoadHeaders(b *testing.B, h http.Header) {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "plugin", "testdata", "page-load.http"))
	if err != nil {
		b.Fatal(err)
	}
	page, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		b.Fatal(err)
	}
	for name, values := range page.Header {
		h[name] = values
	}
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
	addPageLoadHeaders(b, req.Header)
	benchLoop(b, h, req)
}
