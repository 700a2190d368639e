package interp

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/traefik/traefik/v3/pkg/plugins"

	"github.com/plexgate/plexgate/forwardauth/session"
)

const (
	moduleName = "github.com/plexgate/plexgate"
	pluginName = "plexgate"
	testSecret = "0123456789abcdef0123456789abcdef-test-secret"
	issuer     = "https://auth.example.com"
)

// repoRoot is the plexgate repository, two levels above this package.
const repoRoot = "../.."

var (
	loadOnce sync.Once
	loaded   *plugins.Builder
	manifest *plugins.Manifest
	loadErr  error
)

// builder loads the plugin once through Traefik's loader: Traefik reads
// plugins-local/ relative to the working directory, so the layout is built
// in a temporary directory that is the working directory while loading.
func builder(tb testing.TB) (*plugins.Builder, *plugins.Manifest) {
	tb.Helper()
	loadOnce.Do(func() { loaded, manifest, loadErr = load() })
	if loadErr != nil {
		tb.Fatalf("loading the plugin: %v", loadErr)
	}
	return loaded, manifest
}

func load() (*plugins.Builder, *plugins.Manifest, error) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "plexgate-interp-")
	if err != nil {
		return nil, nil, err
	}
	// Yaegi reads the sources while NewBuilder imports them, not later.
	defer func() { _ = os.RemoveAll(dir) }()
	if err := copyLayout(root, filepath.Join(dir, "plugins-local", "src", moduleName)); err != nil {
		return nil, nil, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, nil, err
	}
	if err := os.Chdir(dir); err != nil {
		return nil, nil, err
	}
	defer func() { _ = os.Chdir(wd) }()
	local := map[string]plugins.LocalDescriptor{pluginName: {ModuleName: moduleName}}
	if err := plugins.SetupLocalPlugins(local); err != nil {
		return nil, nil, err
	}
	m, err := plugins.ReadManifest("./plugins-local/", moduleName)
	if err != nil {
		return nil, nil, err
	}
	b, err := plugins.NewBuilder(nil, nil, local)
	return b, m, err
}

// copyLayout copies go.mod, .traefik.yml and the plugin's non-test Go files.
func copyLayout(root, dst string) error {
	if err := os.MkdirAll(filepath.Join(dst, "plugin"), 0o755); err != nil {
		return err
	}
	files := []string{"go.mod", ".traefik.yml"}
	sources, err := filepath.Glob(filepath.Join(root, "plugin", "*.go"))
	if err != nil {
		return err
	}
	for _, s := range sources {
		if !strings.HasSuffix(s, "_test.go") {
			files = append(files, filepath.Join("plugin", filepath.Base(s)))
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// newHandler builds one interpreted middleware instance from config, the
// way Traefik does for a dynamic configuration.
func newHandler(tb testing.TB, config map[string]any, next http.Handler) (http.Handler, error) {
	tb.Helper()
	b, _ := builder(tb)
	construct, err := b.Build(pluginName, config, "plexgate-interp")
	if err != nil {
		return nil, err
	}
	return construct(context.Background(), next)
}

func mustHandler(tb testing.TB, config map[string]any, next http.Handler) http.Handler {
	tb.Helper()
	h, err := newHandler(tb, config, next)
	if err != nil {
		tb.Fatalf("building the middleware: %v", err)
	}
	return h
}

// keyPair is an Ed25519 key with its PEM public key and RFC 7638 kid.
type keyPair struct {
	priv ed25519.PrivateKey
	pem  string
	kid  string
}

func newKeyPair(tb testing.TB) keyPair {
	tb.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		tb.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return keyPair{
		priv: priv,
		pem:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		kid:  session.Thumbprint(pub),
	}
}

func claims(sid string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": issuer, "aud": "plexgate", "sub": "00u1", "sid": sid,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"hdr": map[string]string{
			"X-Forwarded-User": "alice@example.com", "X-Forwarded-Email": "alice@example.com",
			"X-Forwarded-Groups": "plex-users,admins",
		},
	}
}

func segment(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func edToken(k keyPair, c map[string]any) string {
	signed := segment(map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": k.kid}) + "." + segment(c)
	return signed + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(k.priv, []byte(signed)))
}

// hsToken signs c with testSecret under the secret's kid (the first 8
// bytes of its SHA-256, docs/contract.md).
func hsToken(c map[string]any) string {
	sum := sha256.Sum256([]byte(testSecret))
	kid := base64.RawURLEncoding.EncodeToString(sum[:8])
	signed := segment(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}) + "." + segment(c)
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// recorder is the upstream: it keeps the identity it was given and the
// last request's headers.
type recorder struct {
	calls  atomic.Int64
	user   atomic.Value
	header atomic.Value // http.Header
}

func (r *recorder) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	r.calls.Add(1)
	r.user.Store(strings.Join(req.Header.Values("X-Forwarded-User"), ","))
	r.header.Store(req.Header.Clone())
	_, _ = io.WriteString(rw, "plex")
}

// forged returns a header of the last request that carries "mallory".
func (r *recorder) forged() string {
	h, _ := r.header.Load().(http.Header)
	for name, v := range h {
		if strings.Contains(strings.Join(v, ","), "mallory") {
			return name
		}
	}
	return ""
}

func (r *recorder) lastUser() string {
	s, _ := r.user.Load().(string)
	return s
}

// forwardauth is a minimal /validate: allows "good" cookies, else 302.
type forwardauth struct {
	srv   *httptest.Server
	calls atomic.Int64
}

func newForwardauth(tb testing.TB) *forwardauth {
	fa := &forwardauth{}
	fa.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		fa.calls.Add(1)
		if strings.Contains(req.Header.Get("Cookie"), "plexgate_session=good") {
			rw.Header().Set("X-Forwarded-User", "bob@example.com")
			rw.Header().Add("Set-Cookie", "plexgate_session=good; HttpOnly")
			return
		}
		rw.Header().Set("Location", issuer+"/login?rd=https%3A%2F%2F"+req.Header.Get("X-Forwarded-Host"))
		rw.WriteHeader(http.StatusFound)
	}))
	tb.Cleanup(fa.srv.Close)
	return fa
}

func request(cookie string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "http://plex.example.com/web/index.html", nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0")
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	req.Header.Set("Accept-Language", "en-US,en;q=0.9")
	if cookie != "" {
		req.Header.Set("Cookie", "theme=dark; plexgate_session="+cookie)
	}
	return req
}
