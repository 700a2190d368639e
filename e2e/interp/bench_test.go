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

// The benchmarks below are bounds, not plexgate: small middlewares
// evaluated by Yaegi like the plugin, each doing a strict subset of what
// plexgate must do, so that no correct plugin can be faster under Yaegi
// v0.16.1 on the same machine at the same moment. They put the plugin's
// figures and the targets in context.

// BenchmarkInterpretedFloor is the least any Yaegi middleware costs here:
// an interpreted ServeHTTP that only calls next.
func BenchmarkInterpretedFloor(b *testing.B) {
	h := evalMiddleware(b, `package bound
import "net/http"
type H struct{ next http.Handler }
func (h *H) ServeHTTP(rw http.ResponseWriter, req *http.Request) { h.next.ServeHTTP(rw, req) }
func New(next http.Handler, _ string) http.Handler { return &H{next: next} }`, "")
	req := request("x")
	addPageLoadHeaders(b, req.Header)
	benchLoop(b, h, req)
}

// BenchmarkInterpretedLeastHit is less than a cache hit can be: one lookup
// of the Cookie line in a map, one identity header set, next. It removes no
// client-sent identity header, takes no lock (unsafe with concurrent
// writers) and reads no clock (serves expired sessions).
func BenchmarkInterpretedLeastHit(b *testing.B) {
	req := request(hsToken(claims("bench")))
	h := evalMiddleware(b, `package bound
import "net/http"
type H struct {
	next    http.Handler
	entries map[string][]string
}
func (h *H) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	if user := h.entries[req.Header["Cookie"][0]]; user != nil {
		req.Header["X-Forwarded-User"] = user
		h.next.ServeHTTP(rw, req)
		return
	}
	rw.WriteHeader(http.StatusUnauthorized)
}
func New(next http.Handler, line string) http.Handler {
	return &H{next: next, entries: map[string][]string{line: {"alice@example.com"}}}
}`, req.Header.Get("Cookie"))
	benchServe(b, h, req)
}

// BenchmarkInterpretedLeastHS256Miss is less than a local HS256
// verification can be: the session cookie, its signature and its claims
// decoded, the identity header set. It checks no algorithm, issuer,
// audience or time, strips nothing and caches nothing.
func BenchmarkInterpretedLeastHS256Miss(b *testing.B) {
	h := evalMiddleware(b, `package bound
import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
)
type H struct {
	next   http.Handler
	secret []byte
}
func (h *H) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	c, err := req.Cookie("plexgate_session")
	if err != nil {
		rw.WriteHeader(http.StatusUnauthorized)
		return
	}
	head, rest, _ := strings.Cut(c.Value, ".")
	body, sig, _ := strings.Cut(rest, ".")
	mac := hmac.New(sha256.New, h.secret)
	mac.Write([]byte(c.Value[:len(head)+1+len(body)]))
	want, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac.Sum(nil), want) {
		rw.WriteHeader(http.StatusUnauthorized)
		return
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	var claims map[string]any
	if err != nil || json.Unmarshal(raw, &claims) != nil {
		rw.WriteHeader(http.StatusUnauthorized)
		return
	}
	hdr, _ := claims["hdr"].(map[string]any)
	user, _ := hdr["X-Forwarded-User"].(string)
	req.Header["X-Forwarded-User"] = []string{user}
	h.next.ServeHTTP(rw, req)
}
func New(next http.Handler, secret string) http.Handler {
	return &H{next: next, secret: []byte(secret)}
}`, testSecret)
	benchServe(b, h, request(hsToken(claims("bench"))))
}

// evalMiddleware evaluates src, a package bound whose New(next, arg) returns a
// middleware, with Yaegi and the standard library as Traefik gives them to
// plugins, and builds the middleware in front of nop.
func evalMiddleware(b *testing.B, src, arg string) http.Handler {
	b.Helper()
	i := interp.New(interp.Options{})
	if err := i.Use(stdlib.Symbols); err != nil {
		b.Fatal(err)
	}
	if _, err := i.Eval(src); err != nil {
		b.Fatal(err)
	}
	v, err := i.Eval("bound.New")
	if err != nil {
		b.Fatal(err)
	}
	return v.Interface().(func(http.Handler, string) http.Handler)(nop, arg)
}

// plexWebQuery is the query Plex Web puts on its API calls, the token last
// (the same as the compiled benchmarks').
const plexWebQuery = "X-Plex-Product=Plex%20Web&X-Plex-Version=4.145.1&X-Plex-Client-Identifier=k8w2x7m1q9z3v5b4n6c0d8f2&X-Plex-Platform=Chrome&X-Plex-Platform-Version=131.0&X-Plex-Device=Linux&X-Plex-Language=en&X-Plex-Token="

// plexHitBench measures a Plex-token hit: the page-load request with no
// Cookie, the owner's token in the header or the query.
func plexHitBench(b *testing.B, inQuery bool) {
	fa := newPlexForwardauth(b)
	h := mustHandler(b, map[string]any{"ValidateURL": fa.srv.URL + "/validate"}, nop)
	req := request("")
	if inQuery {
		req.URL.RawQuery = plexWebQuery + plexOwnerToken
	} else {
		req.Header.Set("X-Plex-Token", plexOwnerToken)
	}
	h.ServeHTTP(httptest.NewRecorder(), req) // delegate once, then hits
	benchServe(b, h, req)
	if n := fa.calls.Load(); n != 1 {
		b.Fatalf("validate calls %d: not every request was a hit", n)
	}
}

func BenchmarkInterpretedPlexTokenHitHeader(b *testing.B) { plexHitBench(b, false) }

func BenchmarkInterpretedPlexTokenHitQuery(b *testing.B) { plexHitBench(b, true) }
