package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func noEnv(string) (string, bool) { return "", false }

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

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
		{"refresh_after zero", func(c *Config) { c.Session.RefreshAfter = 0 }, "session.refresh_after:"},
		{"refresh_after past max_age", func(c *Config) { c.Session.RefreshAfter = 13 * time.Hour }, "session.refresh_after:"},
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

func TestConfigSourcesApplyInOrder(t *testing.T) {
	file := writeFile(t, "fa.yml", "listen: \":1000\"\noidc:\n  client_id: from-file\n  scopes: [openid]\nsession:\n  max_age: 1h\n")
	tests := []struct {
		name  string
		env   map[string]string
		flags map[string]string
		check func(Config) bool
	}{
		{"file over defaults", nil, nil, func(c Config) bool {
			return c.Listen == ":1000" && c.OIDC.ClientID == "from-file" && c.Session.CookieName == "plexgate_session"
		}},
		{"env over file", map[string]string{"PLEXGATE_OIDC_CLIENT_ID": "from-env", "PLEXGATE_SESSION_MAX_AGE": "2h"}, nil, func(c Config) bool {
			return c.OIDC.ClientID == "from-env" && c.Session.MaxAge == 2*time.Hour
		}},
		{"flag over env", map[string]string{"PLEXGATE_OIDC_CLIENT_ID": "from-env"}, map[string]string{"oidc.client_id": "from-flag"}, func(c Config) bool {
			return c.OIDC.ClientID == "from-flag"
		}},
		{"lists, maps and bools from env", map[string]string{"PLEXGATE_AUTHZ_GROUPS": "a, b", "PLEXGATE_HEADERS_CLAIMS": "given_name=X-Given,locale=X-Locale", "PLEXGATE_SESSION_SECURE": "false"}, nil,
			func(c Config) bool {
				return len(c.Authz.Groups) == 2 && c.Authz.Groups[1] == "b" && c.Headers.Claims["locale"] == "X-Locale" && !c.Session.Secure
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(file, mapEnv(tt.env), tt.flags)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Fatalf("unexpected config %+v", cfg)
			}
		})
	}
}

func TestEveryKeyHasEnvAndFlag(t *testing.T) {
	cfg := Default()
	var fs = newTestFlagSet()
	for _, f := range fields(&cfg) {
		if fs.Lookup(f.path) == nil {
			t.Errorf("no flag -%s", f.path)
		}
	}
	if envName("oidc.client_secret") != "PLEXGATE_OIDC_CLIENT_SECRET" {
		t.Errorf("env name %s", envName("oidc.client_secret"))
	}
}

func TestConfigLoadErrors(t *testing.T) {
	tests := []struct {
		name, file string
		env        map[string]string
		flags      map[string]string
		want       string
	}{
		{"unknown key", "oidc:\n  client_idd: x\n", nil, nil, "client_idd"},
		{"bad duration in env", "", map[string]string{"PLEXGATE_SESSION_MAX_AGE": "forever"}, nil, "PLEXGATE_SESSION_MAX_AGE"},
		{"bad bool flag", "", nil, map[string]string{"session.secure": "maybe"}, "-session.secure"},
		{"bad map", "", map[string]string{"PLEXGATE_HEADERS_CLAIMS": "novalue"}, nil, "PLEXGATE_HEADERS_CLAIMS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, "c.yml", tt.file), mapEnv(tt.env), tt.flags)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want mention of %s", err, tt.want)
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

func newTestFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	RegisterFlags(fs)
	return fs
}

func TestRefreshAfterAndMaxAgeComeFromEveryPlace(t *testing.T) {
	file := writeFile(t, "fa.yml", "session:\n  refresh_after: 10m\n  max_age: 8h\n  deny_list_file: /etc/plexgate/deny\n")
	cfg, err := Load(file, mapEnv(map[string]string{"PLEXGATE_SESSION_REFRESH_AFTER": "20m"}), map[string]string{"session.max_age": "6h"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Session.RefreshAfter != 20*time.Minute || cfg.Session.MaxAge != 6*time.Hour || cfg.Session.DenyListFile != "/etc/plexgate/deny" {
		t.Fatalf("refresh_after %s, max_age %s, deny_list_file %q", cfg.Session.RefreshAfter, cfg.Session.MaxAge, cfg.Session.DenyListFile)
	}
	if d := Default(); d.Session.RefreshAfter != 15*time.Minute || d.Session.MaxAge != 12*time.Hour {
		t.Fatalf("defaults: refresh_after %s, max_age %s", d.Session.RefreshAfter, d.Session.MaxAge)
	}
	good := testConfig(t, t.TempDir(), "https://idp.example.com")
	good.Session.RefreshAfter, good.Session.MaxAge = 5*time.Second, time.Minute
	if err := good.Check(); err != nil {
		t.Fatalf("short refresh_after within max_age: %v", err)
	}
}
