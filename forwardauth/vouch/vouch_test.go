package vouch

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/handler"
	"github.com/plexgate/plexgate/forwardauth/session"
)

// runImport runs -import-vouch on the Vouch config in vouchYAML.
func runImport(t *testing.T, vouchYAML string) (code int, stdout, stderr string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(path, []byte(vouchYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code = ImportFile(path, &out, &errOut)
	return code, out.String(), errOut.String()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// checkImported loads and checks the imported config as forwardauth -check
// does (config.Load, Check, handler.New), with a real signing key in place
// of the path the import writes. main_test.go runs -check itself.
func checkImported(t *testing.T, imported string) config.Config {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "imported.yml")
	if err := os.WriteFile(path, []byte(imported), 0o600); err != nil {
		t.Fatal(err)
	}
	pemData, err := session.GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "session.pem")
	if err := os.WriteFile(key, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil, map[string]string{"session.signing_key_file": key})
	if err == nil {
		err = cfg.Check()
	}
	if err == nil {
		_, err = handler.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	}
	if err != nil {
		t.Fatalf("the imported config fails the check: %v\n%s", err, imported)
	}
	return cfg
}

type fieldCheck struct {
	name      string
	got, want any
}

func checkFields(t *testing.T, checks []fieldCheck) {
	t.Helper()
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestImportVouchOwnLayout(t *testing.T) {
	code, out, stderr := runImport(t, readFile(t, "testdata/vouch-okta.yml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cfg := checkImported(t, out)
	checkFields(t, []fieldCheck{
		{"oidc.issuer", cfg.OIDC.Issuer, "https://dev-123456.okta.com/oauth2/default"},
		{"oidc.client_id", cfg.OIDC.ClientID, "0oa1abcdEFGhijk2l3m4"},
		{"oidc.client_secret", cfg.OIDC.ClientSecret, "okta-client-secret"},
		{"oidc.scopes", cfg.OIDC.Scopes, []string{"openid", "email", "profile", "groups"}},
		{"oidc.use_userinfo", cfg.OIDC.UseUserinfo, true},
		{"public_url", cfg.PublicURL, "https://vouch.example.com"},
		{"listen", cfg.Listen, ":4181"},
		{"session.cookie_domain", cfg.Session.CookieDomain, "example.com"},
		{"session.max_age", cfg.Session.MaxAge, 240 * time.Minute},
		{"session.http_only", cfg.Session.HTTPOnly, true},
		{"authz.emails", cfg.Authz.Emails, []string{"alice@example.com", "bob@example.com"}},
		{"authz.domains", len(cfg.Authz.Domains), 0},
		{"redirect.allowed_domains", cfg.Redirect.AllowedDomains, []string{"example.com", "*.example.com"}}, // www.example.com (post-logout) is within *.example.com
		{"headers.claims", cfg.Headers.Claims, map[string]string{
			"groups": "X-Vouch-IdP-Claims-Groups", "given_name": "X-Vouch-IdP-Claims-Given-Name", "email": "X-Vouch-User"}},
	})
	for _, note := range []string{"vouch.jwt.secret", "vouch.jwt.compress", "vouch.cookie.name", "vouch.headers.jwt",
		"vouch.headers.idtoken", "vouch.publicAccess", "vouch.testing", "vouch.session", "oauth.token_url", "vouch.port 9090"} {
		if !strings.Contains(out, "# not carried over: "+note) {
			t.Errorf("no comment for %s", note)
		}
	}
	for _, want := range []string{"X-Vouch-IdP-Claims-Groups", "authResponseHeaders", "oidc.client_secret_file"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not mention %s:\n%s", want, stderr)
		}
	}
}

func TestImportVouchGuideLayout(t *testing.T) {
	code, out, stderr := runImport(t, readFile(t, "testdata/vouch-guide-okta.yml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cfg := checkImported(t, out)
	checkFields(t, []fieldCheck{
		{"oidc.issuer", cfg.OIDC.Issuer, "https://dev-48213975.okta.com/oauth2/default"},
		{"oidc.client_id", cfg.OIDC.ClientID, "0oa5xk3ut2PTQpxNc5d7"},
		{"public_url", cfg.PublicURL, "https://vouch.example.com"},
		{"log.level", cfg.Log.Level, "debug"},
		{"authz.allow_all", cfg.Authz.AllowAll, true},
		{"session.cookie_domain", cfg.Session.CookieDomain, "example.com"},
		{"session.max_age", cfg.Session.MaxAge, 240 * time.Minute},
		{"session.http_only", cfg.Session.HTTPOnly, true},
		{"headers.claims", cfg.Headers.Claims, map[string]string{
			"email": "X-Vouch-User", "groups": "X-Vouch-IdP-Claims-Groups",
			"given_name": "X-Vouch-IdP-Claims-Given-Name", "family_name": "X-Vouch-IdP-Claims-Family-Name"}},
	})
	for _, want := range []string{
		"vouch.cookie.maxAge 0", "survives a browser restart",
		"vouch.cookie.httpOnly false", "session.http_only stays true",
		"oidc.client_secret: carried over inline from vouch.oauth.client_secret", "oidc.client_secret_file",
		"X-Vouch-IdP-Claims-Family-Name",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
		if !strings.Contains(out, want) {
			t.Errorf("output comments do not say %q", want)
		}
	}
	if strings.Contains(out, "not a Vouch Proxy option") {
		t.Errorf("a guide-layout key is reported as unknown:\n%s", out)
	}
}

// guideConfig is the guide-layout fixture with one substitution applied.
func guideConfig(t *testing.T, old, new string) string {
	t.Helper()
	s := readFile(t, "testdata/vouch-guide-okta.yml")
	if !strings.Contains(s, old) {
		t.Fatalf("fixture has no %q", old)
	}
	return strings.Replace(s, old, new, 1)
}

func TestImportVouchWithoutIssuerOrClientIDFails(t *testing.T) {
	const authURL = "auth_url: https://dev-48213975.okta.com/oauth2/default/v1/authorize"
	const tokens = "    token_url: https://dev-48213975.okta.com/oauth2/default/v1/token\n" +
		"    user_info_url: https://dev-48213975.okta.com/oauth2/default/v1/userinfo\n"
	cases := []struct {
		name, config string
		want         []string
	}{
		{"no client_id", guideConfig(t, "client_id: 0oa5xk3ut2PTQpxNc5d7", ""), []string{"vouch.oauth.client_id is missing"}},
		{"placeholder auth_url", strings.Replace(guideConfig(t, authURL, "auth_url: https://{yourOktaDomain}/oauth2/default/v1/authorize"), tokens, "", 1),
			[]string{"no OIDC issuer", "{yourOktaDomain}"}},
		{"neither", strings.Replace(strings.Replace(guideConfig(t, authURL, ""), "client_id: 0oa5xk3ut2PTQpxNc5d7", "", 1), tokens, "", 1),
			[]string{"vouch.oauth.client_id is missing", "no OIDC issuer can be derived (none is set)"}},
		{"no oauth at all", "vouch:\n  domains: [example.com]\n", []string{"oauth.client_id is missing", "no OIDC issuer"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := runImport(t, c.config)
			if code == 0 {
				t.Fatalf("exit 0, want an error; output:\n%s", out)
			}
			if out != "" {
				t.Errorf("wrote a config although it failed:\n%s", out)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestImportVouchReportsUnknownKeys(t *testing.T) {
	config := guideConfig(t, "  allowAllUsers: true\n",
		"  AllowAllUsers: true\n  whiteLst: [carol@example.com]\n  cookie_name: VouchCookie\n") +
		"oauth2:\n  client_id: stray\n"
	config = strings.Replace(config, "    maxAge: 0\n", "    maxAge: 0\n    maxAgee: 60\n", 1)
	code, out, stderr := runImport(t, config)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"# not carried over: vouch.whiteLst: not a Vouch Proxy option; ignored (did you mean vouch.whiteList?)",
		"# not carried over: vouch.cookie.maxAgee: not a Vouch Proxy option; ignored (did you mean vouch.cookie.maxAge?)",
		"# not carried over: vouch.cookie_name: not a Vouch Proxy option; ignored\n",
		"# not carried over: oauth2: not a Vouch Proxy section",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
	cfg := checkImported(t, out)
	if !cfg.Authz.AllowAll {
		t.Error("AllowAllUsers (any case, as Vouch reads keys) was not carried over")
	}
	if len(cfg.Authz.Emails) != 0 {
		t.Errorf("authz.emails = %v from a misspelt key", cfg.Authz.Emails)
	}
}

func TestImportVouchCookieMaxAge(t *testing.T) {
	cases := []struct {
		jwt, cookie string
		want        time.Duration
	}{
		{"", "", 240 * time.Minute}, // Vouch's defaults
		{"jwt:\n    maxAge: 600\n", "", 600 * time.Minute},
		{"jwt:\n    maxAge: 240\n", "    maxAge: 60\n", 60 * time.Minute},
		{"jwt:\n    maxAge: 240\n", "    maxAge: 14400\n", 240 * time.Minute}, // Vouch caps the cookie at jwt.maxAge
		{"jwt:\n    maxAge: 120\n", "    maxAge: 0\n", 120 * time.Minute},
	}
	for _, c := range cases {
		config := guideConfig(t, "    maxAge: 0\n", c.cookie)
		if c.jwt != "" {
			config = strings.Replace(config, "  cookie:\n", "  "+c.jwt+"  cookie:\n", 1)
		}
		code, out, stderr := runImport(t, config)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if got := checkImported(t, out).Session.MaxAge; got != c.want {
			t.Errorf("%q %q: session.max_age = %s, want %s", c.jwt, c.cookie, got, c.want)
		}
		if zero := strings.Contains(c.cookie, "maxAge: 0"); zero != strings.Contains(stderr, "browser-session cookie") {
			t.Errorf("%q: browser-session explanation on stderr = %v, want %v", c.cookie, !zero, zero)
		}
	}
}

func TestImportVouchWithoutSecretPointsAtFile(t *testing.T) {
	code, out, stderr := runImport(t, guideConfig(t, "client_secret: Xq3rXvP8bT2kLmN9zYwA1cD4eF6gH7jK0lM2nO5p", ""))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "client_secret_file: /etc/plexgate/oidc_client_secret") || !strings.Contains(stderr, "write the secret to /etc/plexgate/oidc_client_secret") {
		t.Errorf("no client_secret_file, or no word of it:\n%s\n%s", stderr, out)
	}
}

func TestVouchClaimHeaderNames(t *testing.T) {
	// Header names as Vouch Proxy forms them (its claimToHeader and tests).
	cases := []struct{ prefix, claim, want string }{
		{vouchClaimPrefix, "groups", "X-Vouch-IdP-Claims-Groups"},
		{vouchClaimPrefix, "given_name", "X-Vouch-IdP-Claims-Given-Name"},
		{vouchClaimPrefix, "family_name", "X-Vouch-IdP-Claims-Family-Name"},
		{vouchClaimPrefix, "https://test.auth0.com/user", "X-Vouch-IdP-Claims-Test-Auth0-Com-User"},
		{vouchClaimPrefix, "http://www.example.com/favorite_color", "X-Vouch-IdP-Claims-Www-Example-Com-Favorite-Color"},
		{vouchClaimPrefix, "cognito:groups", "X-Vouch-IdP-Claims-Cognito-Groups"},
		{vouchClaimPrefix, "zoneinfo é", "X-Vouch-IdP-Claims-Zoneinfo--"},
		{"My-Custom-Claim-", "email_verified", "My-Custom-Claim-Email-Verified"},
	}
	for _, c := range cases {
		if got := vouchClaimHeader(c.prefix, c.claim); got != c.want {
			t.Errorf("vouchClaimHeader(%q, %q) = %q, want %q", c.prefix, c.claim, got, c.want)
		}
	}
}

func TestIssuerFromEndpoint(t *testing.T) {
	cases := map[string]string{
		"https://dev-123456.okta.com/oauth2/default/v1/authorize":                         "https://dev-123456.okta.com/oauth2/default",
		"https://dev-123456.okta.com/oauth2/aus1a2b3c4D5e6F7g8h9/v1/token":                "https://dev-123456.okta.com/oauth2/aus1a2b3c4D5e6F7g8h9",
		"https://dev-123456.okta.com/oauth2/v1/authorize":                                 "https://dev-123456.okta.com",
		"https://sso.example.com/realms/home/protocol/openid-connect/auth":                "https://sso.example.com/realms/home",
		"https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize": "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
		"https://accounts.google.com/o/oauth2/v2/auth":                                    "https://accounts.google.com",
		"https://example.eu.auth0.com/authorize":                                          "https://example.eu.auth0.com",
		"https://github.com/login/oauth/authorize":                                        "",
		"https://{yourOktaDomain}/oauth2/default/v1/authorize":                            "",
		"dev-123456.okta.com/oauth2/default/v1/authorize":                                 "",
		"": "",
	}
	for in, want := range cases {
		if got := issuerFromEndpoint(in); got != want {
			t.Errorf("issuerFromEndpoint(%q) = %q, want %q", in, got, want)
		}
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

func TestImportVouchTopLevelOAuthWinsOverNested(t *testing.T) {
	config := readFile(t, "testdata/vouch-guide-okta.yml") + "oauth:\n  client_id: 0oaTopLevelWins0000001\n"
	code, out, stderr := runImport(t, config)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cfg := checkImported(t, out)
	if cfg.OIDC.ClientID != "0oaTopLevelWins0000001" || cfg.OIDC.Issuer != "https://dev-48213975.okta.com/oauth2/default" {
		t.Errorf("client_id %q, issuer %q: want the top-level client_id and the nested auth_url's issuer", cfg.OIDC.ClientID, cfg.OIDC.Issuer)
	}
	if !strings.Contains(stderr, "vouch.oauth.client_id: also set in the top-level oauth:") {
		t.Errorf("no word of the conflict:\n%s", stderr)
	}
}

func TestImportVouchWarnsOfHeaderNamesThePluginRefuses(t *testing.T) {
	code, out, stderr := runImport(t, guideConfig(t, "    - family_name\n", "    - https://www.example.com/claims/favorite_color\n"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	name := "X-Vouch-IdP-Claims-Www-Example-Com-Claims-Favorite-Color"
	if !strings.Contains(out, name) || !strings.Contains(stderr, name+" has 9 separators") {
		t.Errorf("no warning that the plugin refuses %s:\n%s", name, stderr)
	}
	if strings.Contains(stderr, "X-Vouch-IdP-Claims-Given-Name has") {
		t.Errorf("warned about a name the plugin accepts:\n%s", stderr)
	}
}

func TestImportVouchCookieDomainFromDomains(t *testing.T) {
	config := guideConfig(t, "    domain: example.com\n", "")
	config = strings.Replace(config, "  allowAllUsers: true\n", "  allowAllUsers: true\n  domains: [example.org, example.com]\n", 1)
	code, out, stderr := runImport(t, config)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := checkImported(t, out).Session.CookieDomain; got != "example.com" {
		t.Errorf("session.cookie_domain = %q, want example.com (the vouch.domains entry holding vouch.example.com)", got)
	}
	if !strings.Contains(stderr, "session.cookie_domain example.com") {
		t.Errorf("no word of the derived cookie domain:\n%s", stderr)
	}
}
