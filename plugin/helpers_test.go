package plugin

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"sync"
	"testing"
	"time"
)

// testNow is the fixed time of the tests' clock.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const testSecret = "0123456789abcdef0123456789abcdef-test-secret"

// testKey is an Ed25519 key pair with its PEM public key and key id.
type testKey struct {
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
	pem  string
	kid  string
}

func newTestKey(t testing.TB) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	block := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	return testKey{pub: pub, priv: priv, pem: string(block), kid: thumbprint(pub)}
}

// jwksJSON returns a JWK Set holding keys, with their thumbprints as kid.
func jwksJSON(keys ...testKey) string {
	set := map[string]any{"keys": []any{}}
	for _, k := range keys {
		set["keys"] = append(set["keys"].([]any), map[string]any{
			"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
			"x": base64.RawURLEncoding.EncodeToString(k.pub), "kid": k.kid,
		})
	}
	b, _ := json.Marshal(set)
	return string(b)
}

func b64JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// signRaw signs base64url header and payload segments with alg.
func signRaw(head, body, alg string, key testKey, secret []byte) string {
	signed := head + "." + body
	var sig []byte
	switch alg {
	case "EdDSA":
		sig = ed25519.Sign(key.priv, []byte(signed))
	case "HS256":
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(signed))
		sig = mac.Sum(nil)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// goodClaims are valid claims at testNow, as forwardauth mints them.
func goodClaims() map[string]any {
	return map[string]any{
		"iss": "https://auth.example.com", "aud": "plexgate", "sub": "00u1",
		"iat": testNow.Add(-time.Minute).Unix(), "nbf": testNow.Add(-time.Minute).Unix(),
		"exp": testNow.Add(time.Hour).Unix(), "sid": "s1", "email": "alice@example.com",
		"hdr": map[string]any{
			"X-Forwarded-User": "alice@example.com", "X-Forwarded-Email": "alice@example.com",
			"X-Forwarded-Groups": "plex-users,admins", "X-Other": "not configured",
		},
	}
}

// edToken signs claims with key (kid set to the key's thumbprint).
func edToken(t testing.TB, key testKey, claims map[string]any) string {
	t.Helper()
	head := b64JSON(t, map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": key.kid})
	return signRaw(head, b64JSON(t, claims), "EdDSA", key, nil)
}

func hsToken(t testing.TB, claims map[string]any) string {
	t.Helper()
	head := b64JSON(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": hmacKeyID([]byte(testSecret))})
	return signRaw(head, b64JSON(t, claims), "HS256", testKey{}, []byte(testSecret))
}

// testConfig is a valid configuration delegating to validateURL.
func testConfig(validateURL string) *Config {
	c := CreateConfig()
	c.ValidateURL = validateURL
	c.Issuer = "https://auth.example.com"
	return c
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: testNow} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuffer collects log lines safely.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// upstream records what reached the next handler.
type upstream struct {
	mu     sync.Mutex
	calls  int
	header http.Header
}

func (u *upstream) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	u.mu.Lock()
	u.calls++
	u.header = req.Header.Clone()
	u.mu.Unlock()
	_, _ = io.WriteString(rw, "plex")
}

// newTestMiddleware builds the middleware with the test clock and a log
// buffer at debug level.
func newTestMiddleware(t testing.TB, cfg *Config, clk *clock) (*Middleware, *upstream, *logBuffer) {
	t.Helper()
	up := &upstream{}
	logs := &logBuffer{}
	m, err := newMiddleware(up, cfg, "plexgate-test", options{
		now: clk.now,
		log: newLogger(logs, "plexgate-test", slog.LevelDebug),
	})
	if err != nil {
		t.Fatalf("newMiddleware: %v", err)
	}
	return m, up, logs
}

// forge adds a client-sent header as Go's HTTP servers store it, under the
// canonical form of name (see TestServerCanonicalizesEverySpelling): a
// middleware behind Traefik never sees a request header in another form.
func forge(h http.Header, name string, values ...string) {
	key := textproto.CanonicalMIMEHeaderKey(name)
	h[key] = append(h[key], values...)
}
