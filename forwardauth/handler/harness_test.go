package handler

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/session"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a forwardauth server wired to a test provider.
type env struct {
	t     testing.TB
	idp   *testIDP
	srv   *Server
	clock *clock
	cfg   config.Config
	dir   string
}

const site = "https://plex.example.com/web/index.html"

// testConfig is a valid config for idp with a fresh signing key in dir.
func testConfig(t testing.TB, dir, issuer string) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.PublicURL = "https://auth.example.com"
	cfg.OIDC.Issuer = issuer
	cfg.OIDC.ClientID = "plexgate-client"
	cfg.OIDC.ClientSecret = "s3cret-client"
	cfg.Session.CookieDomain = "example.com"
	cfg.Session.SigningKeyFile = writeKey(t, dir, "signing.pem")
	cfg.Authz.Groups = []string{"plex-users"}
	return cfg
}

func writeKey(t testing.TB, dir, name string) string {
	t.Helper()
	pemData, err := session.GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newEnv(t testing.TB, mutate func(*config.Config)) *env {
	t.Helper()
	c := &clock{t: time.Now().Truncate(time.Second)}
	idp := newTestIDP(t, c.now)
	dir := t.TempDir()
	cfg := testConfig(t, dir, idp.issuer())
	if mutate != nil {
		mutate(&cfg)
	}
	e := &env{t: t, idp: idp, clock: c, cfg: cfg, dir: dir}
	e.srv = e.server(cfg)
	return e
}

// server builds a Server for cfg on the env's clock.
func (e *env) server(cfg config.Config) *Server {
	e.t.Helper()
	if err := cfg.Check(); err != nil {
		e.t.Fatalf("config: %v", err)
	}
	srv, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), e.clock.now)
	if err != nil {
		e.t.Fatalf("newServer: %v", err)
	}
	return srv
}

// do sends req to the server and returns the recorded response.
func (e *env) do(req *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec.Result()
}

func (e *env) get(target string, cookies ...*http.Cookie) *http.Response {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return e.do(req)
}

// startLogin calls /login and returns the provider URL and the state cookie.
func (e *env) startLogin(rd string) (*url.URL, *http.Cookie) {
	e.t.Helper()
	resp := e.get("https://auth.example.com/login?rd=" + url.QueryEscape(rd))
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("/login: status %d, want 302", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	c := cookieNamed(resp, "plexgate_session_login_"+loc.Query().Get("state"))
	if c == nil {
		e.t.Fatal("/login set no state cookie")
	}
	return loc, c
}

// authorize visits the provider and returns the callback URL it redirects to.
func (e *env) authorize(authURL *url.URL) *url.URL {
	e.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL.String())
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("provider authorize: status %d", resp.StatusCode)
	}
	cb, _ := url.Parse(resp.Header.Get("Location"))
	return cb
}

// login runs the whole flow and returns the callback response.
func (e *env) login(rd string) *http.Response {
	e.t.Helper()
	authURL, state := e.startLogin(rd)
	return e.get(e.authorize(authURL).String(), state)
}

// session logs in and returns the session cookie.
func (e *env) session() *http.Cookie {
	e.t.Helper()
	resp := e.login(site)
	c := cookieNamed(resp, "plexgate_session")
	if resp.StatusCode != http.StatusFound || c == nil {
		e.t.Fatalf("login: status %d, body %s", resp.StatusCode, body(resp))
	}
	return c
}

// validate calls /validate for the original URL with extra headers.
func (e *env) validate(orig string, headers map[string]string, cookies ...*http.Cookie) *http.Response {
	u, _ := url.Parse(orig)
	req := httptest.NewRequest(http.MethodGet, "http://forwardauth:4181/validate", nil)
	req.Header.Set("X-Forwarded-Method", "GET")
	req.Header.Set("X-Forwarded-Proto", u.Scheme)
	req.Header.Set("X-Forwarded-Host", u.Host)
	req.Header.Set("X-Forwarded-Uri", u.RequestURI())
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return e.do(req)
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func body(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
