package vouch

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plexgate/plexgate/forwardauth/config"
)

func TestImportVouchOktaConfig(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := ImportFile("testdata/vouch-okta.yml", &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	path := filepath.Join(t.TempDir(), "imported.yml")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil, nil)
	if err != nil {
		t.Fatalf("imported config does not load: %v\n%s", err, out)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"oidc.issuer", cfg.OIDC.Issuer, "https://dev-123456.okta.com/oauth2/default"},
		{"oidc.client_id", cfg.OIDC.ClientID, "0oa1abcdEFGhijk2l3m4"},
		{"oidc.client_secret", cfg.OIDC.ClientSecret, "okta-client-secret"},
		{"oidc.scopes", cfg.OIDC.Scopes, []string{"openid", "email", "profile", "groups"}},
		{"public_url", cfg.PublicURL, "https://vouch.example.com"},
		{"listen", cfg.Listen, ":4181"},
		{"session.cookie_domain", cfg.Session.CookieDomain, "example.com"},
		{"session.max_age", cfg.Session.MaxAge, 240 * time.Minute},
		{"authz.emails", cfg.Authz.Emails, []string{"alice@example.com", "bob@example.com"}},
		{"authz.domains", len(cfg.Authz.Domains), 0},
		{"redirect.allowed_domains", cfg.Redirect.AllowedDomains, []string{"example.com", "*.example.com", "www.example.org"}},
		{"headers.claims", cfg.Headers.Claims, map[string]string{
			"groups": "X-Vouch-Idp-Claims-Groups", "given_name": "X-Vouch-Idp-Claims-Given-Name", "email": "X-Vouch-User"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	for _, note := range []string{"vouch.jwt.secret", "vouch.jwt.compress", "vouch.cookie.name", "vouch.headers.jwt",
		"vouch.headers.idtoken", "vouch.publicAccess", "vouch.testing", "vouch.session", "oauth.token_url", "vouch.port 9090"} {
		if !strings.Contains(out, "# not carried over: "+note) {
			t.Errorf("no comment for %s", note)
		}
	}
	cfg.Session.SigningKeyFile = filepath.Join(t.TempDir(), "k.pem") // Check reads no file
	if err := cfg.Check(); err != nil {
		t.Errorf("imported config invalid: %v", err)
	}
}

func TestImportVouchRejectsNonVouchFile(t *testing.T) {
	if _, err := importVouch([]byte("listen: :4181\n")); err == nil {
		t.Fatal("want an error for a file without vouch/oauth sections")
	}
	if _, err := importVouch([]byte("vouch: [")); err == nil {
		t.Fatal("want an error for broken YAML")
	}
}
