package plugin

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// companion is a hand-written stand-in for forwardauth: /validate answers
// with the answer function, /jwks serves jwks.
type companion struct {
	srv *httptest.Server

	mu            sync.Mutex
	validateCalls int
	jwksCalls     int
	lastValidate  *http.Request
	answer        func(rw http.ResponseWriter, req *http.Request)
	jwks          string
	jwksHold      chan struct{} // when set, /jwks waits for it to close
}

func newCompanion(t testing.TB) *companion {
	t.Helper()
	c := &companion{answer: allowAlice}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *companion) serve(rw http.ResponseWriter, req *http.Request) {
	switch req.URL.Path {
	case "/validate":
		c.mu.Lock()
		c.validateCalls++
		c.lastValidate = req.Clone(req.Context())
		answer := c.answer
		c.mu.Unlock()
		answer(rw, req)
	case "/jwks":
		c.mu.Lock()
		c.jwksCalls++
		hold, body := c.jwksHold, c.jwks
		c.mu.Unlock()
		if hold != nil {
			<-hold
		}
		rw.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(rw, body)
	default:
		http.NotFound(rw, req)
	}
}

func (c *companion) validateURL() string { return c.srv.URL + "/validate" }
func (c *companion) jwksURL() string     { return c.srv.URL + "/jwks" }

func (c *companion) calls() (validate, jwks int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.validateCalls, c.jwksCalls
}

func (c *companion) setAnswer(f func(rw http.ResponseWriter, req *http.Request)) {
	c.mu.Lock()
	c.answer = f
	c.mu.Unlock()
}

func (c *companion) last() *http.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastValidate
}

// allowAlice is forwardauth allowing alice.
func allowAlice(rw http.ResponseWriter, req *http.Request) {
	rw.Header().Set("X-Forwarded-User", "alice@example.com")
	rw.Header().Set("X-Forwarded-Email", "alice@example.com")
	rw.Header().Add("X-Forwarded-Groups", "plex-users")
	rw.Header().Set("X-Not-Configured", "dropped")
	rw.WriteHeader(http.StatusOK)
}

// request builds a request to plex.example.com carrying the cookie header.
func request(cookie string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "http://plex.example.com/web/index.html?x=1", nil)
	req.RemoteAddr = "192.0.2.7:51000"
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	return req
}

func sessionCookie(tok string) string { return "plexgate_session=" + tok }

// serve runs one request through m and returns the response.
func serve(m http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, req)
	return rec
}

func bodyOf(rec *httptest.ResponseRecorder) string {
	return strings.TrimSpace(rec.Body.String())
}
