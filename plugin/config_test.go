package plugin

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCreateConfigHoldsEveryDefault(t *testing.T) {
	c := CreateConfig()
	if c.CookieName != "plexgate_session" || c.Audience != "plexgate" || c.Leeway != "30s" ||
		c.CacheTTL != "5m" || c.CacheMaxEntries != 10000 || c.Timeout != "5s" ||
		c.JWKSMinRefreshInterval != "1m" || c.JWKSMaxAge != "5m" || c.LogLevel != "info" || c.ValidateURL != "" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if !reflect.DeepEqual(c.AuthResponseHeaders, []string{"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups"}) ||
		!reflect.DeepEqual(c.AuthRequestHeaders, []string{"Accept", "X-Requested-With"}) {
		t.Fatalf("unexpected header defaults: %+v", c)
	}
}

func TestDefaultsWithValidateURLAreValid(t *testing.T) {
	cfg := CreateConfig()
	cfg.ValidateURL = "http://forwardauth:4181/validate"
	s, err := cfg.parse()
	if err != nil {
		t.Fatal(err)
	}
	if s.leeway != 30*time.Second || s.cacheTTL != 5*time.Minute || s.timeout != 5*time.Second || s.jwksInterval != time.Minute || s.jwksMaxAge != 5*time.Minute {
		t.Fatalf("parsed durations: %+v", s)
	}
}

func TestInvalidConfigIsRejectedWithAClearError(t *testing.T) {
	key := newTestKey(t)
	cases := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"missing ValidateURL", func(c *Config) { c.ValidateURL = "" }, "ValidateURL is required"},
		{"relative ValidateURL", func(c *Config) { c.ValidateURL = "/validate" }, "ValidateURL must be an absolute http(s) URL"},
		{"ValidateURL with credentials", func(c *Config) { c.ValidateURL = "http://u:p@fa/validate" }, "without credentials"},
		{"ftp JWKSURL", func(c *Config) { c.JWKSURL = "ftp://fa/jwks" }, "JWKSURL must be an absolute"},
		{"cookie name with a space", func(c *Config) { c.CookieName = "a b" }, "CookieName must be"},
		{"empty audience", func(c *Config) { c.Audience = "" }, "Audience must not be empty"},
		{"bad duration", func(c *Config) { c.CacheTTL = "five minutes" }, `CacheTTL must be a duration such as "30s"`},
		{"negative duration", func(c *Config) { c.Leeway = "-1s" }, "Leeway must be at least 0s"},
		{"huge leeway", func(c *Config) { c.Leeway = "1h" }, "Leeway must be at most 5m0s"},
		{"zero timeout", func(c *Config) { c.Timeout = "0" }, "Timeout must be at least 1ms"},
		{"JWKS interval under a second", func(c *Config) { c.JWKSMinRefreshInterval = "10ms" }, "JWKSMinRefreshInterval must be at least 1s"},
		{"JWKS max age under a second", func(c *Config) { c.JWKSMaxAge = "0" }, "JWKSMaxAge must be at least 1s"},
		{"JWKS max age under the interval", func(c *Config) { c.JWKSMaxAge = "30s" }, "JWKSMaxAge (30s) must be at least JWKSMinRefreshInterval (1m0s)"},
		{"no cache entries", func(c *Config) { c.CacheMaxEntries = 0 }, "CacheMaxEntries must be at least 1"},
		{"bad header name", func(c *Config) { c.AuthResponseHeaders = []string{"X User"} }, `AuthResponseHeaders: "X User" is not a valid header name`},
		{"header name with too many separators", func(c *Config) { c.AuthResponseHeaders = []string{"X-A-B-C-D_E-F-G"} }, `AuthResponseHeaders: X-A-B-C-D_e-F-G has 7 separators`},
		{"forged forwarded header", func(c *Config) { c.AuthRequestHeaders = []string{"x-forwarded-for"} }, "X-Forwarded-For is built from the request"},
		{"short secret", func(c *Config) { c.HMACSecret = "short-secret" }, "at least 32 bytes, got 12"},
		{"secret twice", func(c *Config) { c.HMACSecret = testSecret; c.HMACSecretFile = "/x" }, "not both"},
		{"missing secret file", func(c *Config) { c.HMACSecretFile = "/nonexistent/secret" }, "HMACSecretFile: open /nonexistent/secret"},
		{"garbage public key", func(c *Config) { c.PublicKeys = "hello" }, "PublicKeys: want PEM"},
		{"private key as public key", func(c *Config) { c.PublicKeys = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }, `PEM block "PRIVATE KEY" is not a PUBLIC KEY`},
		{"RSA JWK only", func(c *Config) { c.PublicKeys = `{"kty":"RSA","n":"AQAB","e":"AQAB"}` }, "no Ed25519 signing key"},
		{"JWK with a short x", func(c *Config) { c.PublicKeys = `{"kty":"OKP","crv":"Ed25519","x":"AAAA"}` }, "not a base64url Ed25519 public key"},
		{"PEM then junk", func(c *Config) { c.PublicKeys = key.pem + "junk" }, "PublicKeys: want PEM"},
		{"bad log level", func(c *Config) { c.LogLevel = "loud" }, "LogLevel must be"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig("http://forwardauth:4181/validate")
			tc.change(cfg)
			_, err := New(context.Background(), &upstream{}, cfg, "plexgate")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "plexgate: invalid configuration: ") {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestEveryConfigProblemIsReportedAtOnce(t *testing.T) {
	cfg := CreateConfig()
	cfg.CacheTTL, cfg.Audience = "x", ""
	_, err := cfg.parse()
	for _, want := range []string{"ValidateURL is required", "CacheTTL", "Audience"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %q", err, want)
		}
	}
}

func TestSecretNeverAppearsInConfigErrors(t *testing.T) {
	cfg := testConfig("")
	cfg.HMACSecret = "tiny-secret-value"
	_, err := cfg.parse()
	if err == nil || strings.Contains(err.Error(), cfg.HMACSecret) {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigValuesAreNormalized(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := newTestKey(t)
	cfg := testConfig("https://auth.example.com/validate")
	cfg.HMACSecretFile = secretFile
	cfg.PublicKeys = key.pem + newTestKey(t).pem
	cfg.Leeway, cfg.CacheTTL = "45", "0"
	cfg.AuthResponseHeaders = []string{" x-forwarded-user", "X-FORWARDED-USER", "", "remote-email "}
	before := *cfg
	before.AuthResponseHeaders = append([]string(nil), cfg.AuthResponseHeaders...)
	s, err := cfg.parse()
	if err != nil {
		t.Fatal(err)
	}
	if string(s.hmacSecret) != testSecret || len(s.keys) != 2 || s.keys[key.kid] == nil {
		t.Errorf("secret %d bytes, %d keys", len(s.hmacSecret), len(s.keys))
	}
	if s.leeway != 45*time.Second || s.cacheTTL != 0 {
		t.Errorf("leeway %s, ttl %s", s.leeway, s.cacheTTL)
	}
	if !reflect.DeepEqual(s.responseHeaders, []string{"X-Forwarded-User", "Remote-Email"}) {
		t.Errorf("response headers %q", s.responseHeaders)
	}
	if !reflect.DeepEqual(before, *cfg) {
		t.Errorf("parse modified the config")
	}
}
