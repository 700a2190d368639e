package handler

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/session"
)

// The attack tests try the classes of bugs that gates of this kind have
// shipped (SECURITY.md maps each class to its tests). Every table has a
// positive control built the same way as the attacks, so that a test
// cannot pass by rejecting everything.

// forger builds session tokens for an env from raw header and claims.
type forger struct {
	t    *testing.T
	priv ed25519.PrivateKey
	kid  string
	iss  string
	now  time.Time
}

func newForger(t *testing.T, e *env) *forger {
	t.Helper()
	priv, err := session.ReadPrivateKey(e.cfg.Session.SigningKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &forger{t: t, priv: priv, kid: session.Thumbprint(priv.Public().(ed25519.PublicKey)), iss: e.srv.sessions.Issuer(), now: e.clock.now()}
}

// header is a valid session header.
func (f *forger) header() map[string]any {
	return map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": f.kid}
}

// claims are valid session claims.
func (f *forger) claims() map[string]any {
	n := f.now.Unix()
	return map[string]any{
		"iss": f.iss, "aud": "plexgate", "sub": "00u-alice", "sid": "s1", "iat": n - 60, "nbf": n - 60, "exp": n + 3600,
		"email": "alice@example.com", "groups": []string{"plex-users"}, "hdr": map[string]string{"X-Forwarded-User": "alice@example.com"},
	}
}

func seg(v any) string {
	if s, ok := v.(string); ok { // raw JSON text
		return base64.RawURLEncoding.EncodeToString([]byte(s))
	}
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ed signs header and claims (values or raw JSON strings) with key.
func (f *forger) ed(head, claims any, key ed25519.PrivateKey) string {
	signed := seg(head) + "." + seg(claims)
	return signed + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, []byte(signed)))
}

// hs signs header and claims with HS256 and secret.
func hs(head, claims any, secret []byte) string {
	signed := seg(head) + "." + seg(claims)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func sessionOf(value string) *http.Cookie {
	return &http.Cookie{Name: "plexgate_session", Value: value}
}

func TestForgedSessionTokensAreRefused(t *testing.T) {
	e := newEnv(t, nil)
	f := newForger(t, e)
	pub := f.priv.Public().(ed25519.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	_, attacker, _ := ed25519.GenerateKey(rand.Reader)
	attackerKid := session.Thumbprint(attacker.Public().(ed25519.PublicKey))
	h, c, n := f.header(), f.claims(), f.now.Unix()
	good := f.ed(h, c, f.priv)
	tests := []struct {
		name  string
		token string
	}{
		{"alg none without signature", seg(with(h, "alg", "none")) + "." + seg(c) + "."},
		{"alg none with the real signature", seg(with(h, "alg", "none")) + "." + seg(c) + "." + strings.Split(good, ".")[2]},
		{"alg NONE", seg(with(h, "alg", "NONE")) + "." + seg(c) + "."},
		{"HS256 keyed with the raw public key", hs(with(h, "alg", "HS256"), c, pub)},
		{"HS256 keyed with the public key PEM", hs(with(h, "alg", "HS256"), c, pubPEM)},
		{"HS256 keyed with the public key, no kid", hs(with(h, "alg", "HS256", "kid", nil), c, pub)},
		{"signed by another key under the real kid", f.ed(h, c, attacker)},
		{"unknown kid", f.ed(with(h, "kid", attackerKid), c, attacker)},
		{"injected kid path", f.ed(with(h, "kid", "../../../../dev/null"), c, attacker)},
		{"kid of the wrong type", f.ed(with(h, "kid", 7), c, f.priv)},
		{"no kid", f.ed(with(h, "kid", nil), c, f.priv)},
		{"jku pointing to the attacker's keys", f.ed(with(h, "kid", attackerKid, "jku", "https://evil.example/jwks.json"), c, attacker)},
		{"x5u pointing to the attacker's certificate", f.ed(with(h, "kid", attackerKid, "x5u", "https://evil.example/cert.pem"), c, attacker)},
		{"embedded jwk of the attacker", f.ed(with(h, "jwk", map[string]any{"kty": "OKP", "crv": "Ed25519",
			"x": base64.RawURLEncoding.EncodeToString(attacker.Public().(ed25519.PublicKey))}), c, attacker)},
		{"typ of a login state", f.ed(with(h, "typ", session.StateType), c, f.priv)},
		{"wrong issuer", f.ed(h, with(c, "iss", "https://evil.example"), f.priv)},
		{"wrong audience", f.ed(h, with(c, "aud", "other"), f.priv)},
		{"audience array without plexgate", f.ed(h, with(c, "aud", []string{"other"}), f.priv)},
		{"expired beyond leeway", f.ed(h, with(c, "exp", n-31), f.priv)},
		{"no exp", f.ed(h, with(c, "exp", nil), f.priv)},
		{"nbf in the future beyond leeway", f.ed(h, with(c, "nbf", n+31), f.priv)},
		{"iat in the future beyond leeway", f.ed(h, with(c, "iat", n+31), f.priv)},
		{"exp as a non-numeric string", f.ed(h, with(c, "exp", "tomorrow"), f.priv)},
		{"exp 0", f.ed(h, with(c, "exp", 0), f.priv)},
		{"exp negative", f.ed(h, with(c, "exp", -1), f.priv)},
		{"exp NaN-like huge negative float", f.ed(h, with(c, "exp", -1e300), f.priv)},
		{"exp a fraction of a second past", f.ed(h, with(c, "exp", float64(n-31)+0.999), f.priv)},
		{"no sub", f.ed(h, with(c, "sub", nil), f.priv)},
		{"no sid", f.ed(h, with(c, "sid", nil), f.priv)},
		{"duplicate exp, expired one last", f.ed(h, fmt.Sprintf(`{"iss":%q,"aud":"plexgate","sub":"x","sid":"s","iat":%d,"exp":%d,"exp":%d}`, f.iss, n-60, n+3600, n-3600), f.priv)},
		{"trailing data after the claims JSON", f.ed(h, string(mustJSON(c))+"x", f.priv)},
		{"trailing data after the token", good + ".x"},
		{"padded base64 signature", good + "=="},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+/"},
		{"signature truncated", good[:len(good)-4]},
		{"two segments", good[:strings.LastIndexByte(good, '.')]},
		{"over-long token", f.ed(h, with(c, "pad", strings.Repeat("A", 60000)), f.priv)},
		{"empty", ""},
	}
	if resp := e.validate(site, nil, sessionOf(good)); resp.StatusCode != http.StatusOK {
		t.Fatalf("control: a well-formed token got %d, want 200", resp.StatusCode)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, via := range []string{"cookie", "bearer"} {
				var resp *http.Response
				if via == "cookie" {
					resp = e.validate(site, nil, sessionOf(tt.token))
				} else {
					resp = e.validate(site, map[string]string{"Authorization": "Bearer " + tt.token})
				}
				if resp.StatusCode == http.StatusOK || resp.Header.Get("X-Forwarded-User") != "" {
					t.Fatalf("%s: forged token allowed (status %d)", via, resp.StatusCode)
				}
			}
		})
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestSessionLeewayBoundsClockSkew(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Session.Leeway = 30 * time.Second })
	f := newForger(t, e)
	h, c, n := f.header(), f.claims(), f.now.Unix()
	tests := []struct {
		name   string
		claims map[string]any
		want   int
	}{
		{"expired 29s ago, within leeway", with(c, "exp", n-29), http.StatusOK},
		{"expired 31s ago, beyond leeway", with(c, "exp", n-31), http.StatusFound},
		{"valid from 29s ahead, within leeway", with(c, "nbf", n+29, "iat", n+29), http.StatusOK},
		{"valid from 31s ahead, beyond leeway", with(c, "nbf", n+31, "iat", n+31), http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp := e.validate(site, nil, sessionOf(f.ed(h, tt.claims, f.priv))); resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestSameNamedSessionCookies(t *testing.T) {
	e := newEnv(t, nil)
	f := newForger(t, e)
	good := f.ed(f.header(), f.claims(), f.priv)
	forged := f.ed(f.header(), with(f.claims(), "sub", "mallory", "hdr", map[string]string{"X-Forwarded-User": "mallory"}), ed25519.NewKeyFromSeed(make([]byte, 32)))
	tests := []struct {
		name    string
		cookies []string
		want    int
	}{
		{"valid cookie after a planted invalid one is still accepted", []string{forged, good}, http.StatusOK},
		{"planted invalid cookie after a valid one changes nothing", []string{good, forged}, http.StatusOK},
		{"only forged cookies are refused", []string{forged, forged, "x"}, http.StatusFound},
		{"a valid cookie beyond the fourth is not looked at", []string{"a", "b", "c", "d", good}, http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cookies []*http.Cookie
			for _, v := range tt.cookies {
				cookies = append(cookies, sessionOf(v))
			}
			resp := e.validate(site, nil, cookies...)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if u := resp.Header.Get("X-Forwarded-User"); strings.Contains(u, "mallory") {
				t.Fatalf("identity taken from the forged cookie: %q", u)
			}
		})
	}
}

func TestValidateIgnoresForwardedHeadersItDoesNotUse(t *testing.T) {
	e := newEnv(t, nil)
	spoofed := map[string]string{
		"X-Forwarded-Prefix": "//evil.example", "X-Forwarded-Port": "1", "X-Forwarded-Server": "evil.example",
		"Forwarded": "host=evil.example;proto=https", "X-Original-Url": "https://evil.example/", "X-Rewrite-Url": "//evil.example/",
		"X-Real-Ip": "127.0.0.1", "Referer": "https://evil.example/",
	}
	want := "https://auth.example.com/login?rd=" + url.QueryEscape(site)
	resp := e.validate(site, spoofed)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
		t.Fatalf("status %d, Location %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

func TestValidateRefusesOriginalURLsOffTheAllowedDomains(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name        string
		host, uri   string
		proto       string
		wantAllowed bool
	}{
		{"control: allowed host", "plex.example.com", "/web", "https", true},
		{"foreign host", "evil.example", "/", "https", false},
		{"two hosts joined by a comma", "plex.example.com, evil.example", "/", "https", false},
		{"host with userinfo", "plex.example.com@evil.example", "/", "https", false},
		{"look-alike suffix", "plex.example.com.evil.example", "/", "https", false},
		{"look-alike prefix", "evilexample.com", "/", "https", false},
		{"host with a backslash", "evil.example\\.example.com", "/", "https", false},
		{"protocol-relative uri", "plex.example.com", "//evil.example/", "https", false},
		{"uri without a leading slash", "plex.example.com", "@evil.example/", "https", false},
		{"uri with CRLF", "plex.example.com", "/\r\nLocation: https://evil.example", "https", false},
		{"javascript proto", "plex.example.com", "/", "javascript", false},
		{"no proto", "plex.example.com", "/", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, "http://forwardauth:4181/validate", nil)
			req.Header = http.Header{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Proto": {tt.proto},
				"X-Forwarded-Host": {tt.host}, "X-Forwarded-Uri": {tt.uri}}
			resp := e.do(req)
			if tt.wantAllowed != (resp.StatusCode == http.StatusFound) {
				t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if !tt.wantAllowed && resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", resp.StatusCode)
			}
		})
	}
}
