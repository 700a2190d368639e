package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each warning names the key to change and the fix; a setup that works
// gets none.
func TestWarningsNameTheSettingThatWillFailAndItsFix(t *testing.T) {
	tests := []struct {
		name     string
		plexHost string
		edit     func(*Config)
		want     []string // substrings, one per expected warning, in order
	}{
		{name: "working setup", plexHost: "plex.example.com", edit: func(*Config) {}},
		{name: "no Plex host given, no cookie domain", edit: func(c *Config) { c.Session.CookieDomain = "" }},
		{name: "Plex host without cookie domain", plexHost: "plex.example.com", edit: func(c *Config) { c.Session.CookieDomain = "" },
			want: []string{
				`redirect.allowed_domains: the Plex host "plex.example.com" is not allowed (allowed: auth.example.com), so /validate answers every request to it with 400 "the original URL is not on an allowed domain"; set session.cookie_domain to "example.com"`,
				`session.cookie_domain: is empty, so the session cookie stays on "auth.example.com" and never reaches the Plex host "plex.example.com"`,
			}},
		{name: "Plex host outside the cookie domain", plexHost: "plex.other.net",
			edit: func(c *Config) { c.Redirect.AllowedDomains = []string{"plex.other.net"} },
			want: []string{
				`session.cookie_domain: "example.com" does not cover the Plex host "plex.other.net"`,
				`redirect.allowed_domains: "plex.other.net" is outside session.cookie_domain "example.com"`,
			}},
		{name: "Plex host not among explicit allowed domains", plexHost: "plex.example.com",
			edit: func(c *Config) { c.Redirect.AllowedDomains = []string{"tautulli.example.com"} },
			want: []string{`or add "plex.example.com" to redirect.allowed_domains`}},
		{name: "allowed domain without cookie domain", edit: func(c *Config) {
			c.Session.CookieDomain = ""
			c.Redirect.AllowedDomains = []string{"*.example.com"}
		}, want: []string{`redirect.allowed_domains: "*.example.com": session.cookie_domain is empty`}},
		{name: "Secure cookie on plain HTTP", edit: func(c *Config) { c.PublicURL = "http://auth.example.com" },
			want: []string{`session.secure: is true but public_url "http://auth.example.com" is plain HTTP`}},
		{name: "groups rule without groups scope", edit: func(c *Config) { c.OIDC.Scopes = []string{"openid", "email"} },
			want: []string{"oidc.scopes: has no groups scope but authz.groups is set"}},
		{name: "hosts without a common parent", plexHost: "plex.other.net", edit: func(c *Config) { c.Session.CookieDomain = "" },
			want: []string{"they have none", "they have none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, t.TempDir(), "https://idp.example.com")
			tt.edit(&cfg)
			if err := cfg.Check(); err != nil {
				t.Fatalf("the case must pass Check: %v", err)
			}
			got := cfg.Warnings(tt.plexHost)
			if len(got) != len(tt.want) {
				t.Fatalf("Warnings(%q) = %d warnings %q, want %d", tt.plexHost, len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestReturnDomainsDefaultToTheCookieDomain(t *testing.T) {
	cfg := testConfig(t, t.TempDir(), "https://idp.example.com")
	if got := strings.Join(cfg.ReturnDomains(), " "); got != "auth.example.com example.com *.example.com" {
		t.Errorf("ReturnDomains = %q", got)
	}
	cfg.Redirect.AllowedDomains = []string{"plex.example.com"}
	if got := strings.Join(cfg.ReturnDomains(), " "); got != "auth.example.com plex.example.com" {
		t.Errorf("ReturnDomains with allowed_domains = %q", got)
	}
}

// A file the process may not read is reported with the container user and
// the chown/chmod that fixes it; a short HS256 secret with how to make one.
func TestCheckFilesSaysHowToFixUnreadableAndShortFiles(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "hmac")
	if err := os.WriteFile(short, []byte("too-short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, dir, "https://idp.example.com")
	cfg.OIDC.ClientSecret, cfg.OIDC.ClientSecretFile = "", "/run/secrets/oidc_client_secret"
	cfg.Session.SigningKeyFile = ""
	cfg.Session.HMACSecretFile = short
	cfg.Session.VerificationKeyFiles = []string{filepath.Join(dir, "missing.pem")}
	read := func(path string) ([]byte, error) {
		if path == "/run/secrets/oidc_client_secret" {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrPermission}
		}
		return os.ReadFile(path)
	}
	problems := ProblemsOf(cfg.checkFiles(read))
	want := []string{
		"oidc.client_secret_file: /run/secrets/oidc_client_secret cannot be read by this process",
		"session.verification_key_files: " + filepath.Join(dir, "missing.pem") + " does not exist",
		"session.hmac_secret_file: " + short + " holds 9 bytes, HS256 needs at least 32",
	}
	if len(problems) != len(want) {
		t.Fatalf("problems = %q, want %d", problems, len(want))
	}
	for i, w := range want {
		if !strings.Contains(problems[i], w) {
			t.Errorf("problem %d = %q, want %q", i, problems[i], w)
		}
	}
	for _, fix := range []string{"uid 65532", "sudo chown 65532:65532 secrets/* && sudo chmod 0400 secrets/*"} {
		if !strings.Contains(problems[0], fix) {
			t.Errorf("the permission problem %q does not say %q", problems[0], fix)
		}
	}
	if !strings.Contains(problems[2], "head -c 32 /dev/urandom | base64") {
		t.Errorf("the short-secret problem %q does not say how to make one", problems[2])
	}
	cfg.Session.HMACSecretFile, cfg.Session.VerificationKeyFiles, cfg.OIDC.ClientSecretFile = "", nil, ""
	if err := cfg.checkFiles(read); err != nil {
		t.Errorf("no files: %v", err)
	}
}
