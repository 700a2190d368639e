package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testConfig is a valid config for the provider at issuer. Check reads no
// file, so the signing key file need not exist.
func testConfig(t *testing.T, dir, issuer string) Config {
	t.Helper()
	cfg := Default()
	cfg.PublicURL = "https://auth.example.com"
	cfg.OIDC.Issuer = issuer
	cfg.OIDC.ClientID = "plexgate-client"
	cfg.OIDC.ClientSecret = "s3cret-client"
	cfg.Session.CookieDomain = "example.com"
	cfg.Session.SigningKeyFile = filepath.Join(dir, "signing.pem")
	cfg.Authz.Groups = []string{"plex-users"}
	return cfg
}

func TestCheckReportsEveryProblemAtOnce(t *testing.T) {
	cfg := Default()
	cfg.Log.Format = "xml"
	cfg.OIDC.Scopes = []string{"profile"}
	cfg.Session.MaxAge = time.Second
	cfg.Session.CookieName = "bad name"
	cfg.Headers.Claims = map[string]string{"given_name": "Bad Header"}
	cfg.Redirect.AllowedDomains = []string{"https://x"}
	err := cfg.Check()
	if err == nil {
		t.Fatal("no error")
	}
	got := strings.Join(ProblemsOf(err), "\n")
	for _, key := range []string{"public_url:", "log.format:", "oidc.issuer:", "oidc.client_id:", "oidc.client_secret:", "oidc.scopes:",
		"session.cookie_name:", "session.max_age:", "session.signing_key_file:", "authz:", "headers.claims:", "redirect.allowed_domains:"} {
		if !strings.Contains(got, key) {
			t.Errorf("problem for %s missing in:\n%s", key, got)
		}
	}
}

func TestCheckRejectsConflictingSecrets(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		key  string
	}{
		{"key and hmac", func(c *Config) { c.Session.HMACSecret = strings.Repeat("s", 40) }, "session.signing_key_file:"},
		{"short hmac", func(c *Config) { c.Session.SigningKeyFile = ""; c.Session.HMACSecret = "short" }, "session.hmac_secret:"},
		{"secret twice", func(c *Config) { c.OIDC.ClientSecretFile = "/x" }, "oidc.client_secret:"},
		{"mfa without values", func(c *Config) { c.Authz.RequireMFA = true; c.Authz.MFAAMR = nil }, "authz.require_mfa:"},
		{"bad public url", func(c *Config) { c.PublicURL = "auth.example.com" }, "public_url:"},
		{"cookie domain outside public url", func(c *Config) { c.Session.CookieDomain = "example.org" }, "session.cookie_domain:"},
		{"look-alike cookie domain", func(c *Config) { c.PublicURL = "https://auth.notexample.com" }, "session.cookie_domain:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, t.TempDir(), "https://idp.example.com")
			tt.edit(&cfg)
			err := cfg.Check()
			if err == nil || !strings.Contains(err.Error(), tt.key) {
				t.Fatalf("err %v, want a problem for %s", err, tt.key)
			}
		})
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := Load("../../examples/forwardauth.yml", noEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Check(); err != nil {
		t.Fatal(err)
	}
}
