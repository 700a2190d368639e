package config

import (
	"strings"
	"testing"
	"time"
)

// plexConfig is a valid config with Plex tokens on.
func plexConfig(t *testing.T) Config {
	cfg := testConfig(t, t.TempDir(), "https://idp.example.com")
	cfg.Plex.Enabled = true
	cfg.Plex.OwnerTokenFile = "/run/secrets/plex-owner-token"
	cfg.Authz.PlexUsers = []string{"owner", "friend@example.com", "12345"}
	cfg.Authz.PlexFriends = true
	return cfg
}

func TestPlexConfigDefaultsAndValidConfig(t *testing.T) {
	d := Default().Plex
	if d.Enabled || d.APIURL != "https://plex.tv" || d.ServerURL != "http://plex:32400" || d.ServerID != "" || d.OwnerTokenFile != "" ||
		d.CacheTTL != 10*time.Minute || d.RefreshInterval != 5*time.Minute || strings.Join(d.TokenPaths, ",") != "/myplex/,/security/token" || d.UserField != "username" {
		t.Fatalf("plex defaults: %+v", d)
	}
	a := Default().Authz
	if len(a.PlexUsers) != 0 || a.PlexFriends || a.PlexRequireTwoFactor {
		t.Fatalf("authz.plex_* defaults: %+v", a)
	}
	cfg := plexConfig(t)
	if err := cfg.Check(); err != nil {
		t.Fatalf("valid Plex config: %v", err)
	}
}

func TestPlexCheckProblems(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		key  string
	}{
		{"enabled without any plex_* rule", func(c *Config) { c.Authz.PlexUsers, c.Authz.PlexFriends = nil, false }, "plex.enabled:"},
		{"two-factor alone allows nobody", func(c *Config) {
			c.Authz.PlexUsers, c.Authz.PlexFriends, c.Authz.PlexRequireTwoFactor = nil, false, true
		}, "plex.enabled:"},
		{"rules while disabled", func(c *Config) { c.Plex.Enabled = false }, "plex.enabled:"},
		{"api_url not a URL", func(c *Config) { c.Plex.APIURL = "plex.tv" }, "plex.api_url:"},
		{"api_url empty", func(c *Config) { c.Plex.APIURL = "" }, "plex.api_url:"},
		{"server_url with query", func(c *Config) { c.Plex.ServerURL = "http://plex:32400/?x=1" }, "plex.server_url:"},
		{"server_id with a slash", func(c *Config) { c.Plex.ServerID = "../../x" }, "plex.server_id:"},
		{"friends without owner token", func(c *Config) { c.Plex.OwnerTokenFile = "" }, "authz.plex_friends:"},
		{"friends without server", func(c *Config) { c.Plex.ServerURL = "" }, "authz.plex_friends:"},
		{"cache_ttl zero", func(c *Config) { c.Plex.CacheTTL = 0 }, "plex.cache_ttl:"},
		{"cache_ttl too long", func(c *Config) { c.Plex.CacheTTL = 48 * time.Hour }, "plex.cache_ttl:"},
		{"refresh_interval too short", func(c *Config) { c.Plex.RefreshInterval = time.Second }, "plex.refresh_interval:"},
		{"token path not absolute", func(c *Config) { c.Plex.TokenPaths = []string{"myplex"} }, "plex.token_paths:"},
		{"token path is the root", func(c *Config) { c.Plex.TokenPaths = []string{"/"} }, "plex.token_paths:"},
		{"token path with an escape", func(c *Config) { c.Plex.TokenPaths = []string{"/%6Dyplex"} }, "plex.token_paths:"},
		{"user_field", func(c *Config) { c.Plex.UserField = "name" }, "plex.user_field:"},
		{"empty plex_users entry", func(c *Config) { c.Authz.PlexUsers = []string{" "} }, "authz.plex_users:"},
		{"control character in plex_users", func(c *Config) { c.Authz.PlexUsers = []string{"a\nb"} }, "authz.plex_users:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := plexConfig(t)
			tt.edit(&cfg)
			err := cfg.Check()
			if err == nil || !strings.Contains(err.Error(), tt.key) {
				t.Fatalf("err %v, want a problem for %s", err, tt.key)
			}
		})
	}
}

func TestPlexKeysBindToEnvAndFlags(t *testing.T) {
	env := map[string]string{
		"PLEXGATE_PLEX_ENABLED": "true", "PLEXGATE_PLEX_API_URL": "http://plextv.test", "PLEXGATE_PLEX_CACHE_TTL": "2m",
		"PLEXGATE_AUTHZ_PLEX_USERS": "alice, 12345", "PLEXGATE_PLEX_TOKEN_PATHS": "",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := Load("", lookup, map[string]string{"authz.plex_friends": "true", "plex.user_field": "email"})
	if err != nil {
		t.Fatal(err)
	}
	x, a := cfg.Plex, cfg.Authz
	if !x.Enabled || x.APIURL != "http://plextv.test" || x.CacheTTL != 2*time.Minute || len(x.TokenPaths) != 0 || x.UserField != "email" ||
		strings.Join(a.PlexUsers, "|") != "alice|12345" || !a.PlexFriends {
		t.Fatalf("loaded %+v %+v", x, a)
	}
}
