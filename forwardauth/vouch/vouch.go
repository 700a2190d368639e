// Package vouch converts a Vouch Proxy config.yml into a plexgate
// forwardauth config (forwardauth -import-vouch).
package vouch

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/plexgate/plexgate/forwardauth/config"
)

// vouchConfig is the subset of a Vouch Proxy config.yml that maps to plexgate.
type vouchConfig struct {
	Vouch map[string]any `yaml:"vouch"`
	OAuth map[string]any `yaml:"oauth"`
}

// ImportFile prints the plexgate config for the Vouch Proxy config at path
// to stdout, or the error to stderr, and returns the exit code.
func ImportFile(path string, stdout, stderr io.Writer) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "forwardauth: import-vouch:", err)
		return 1
	}
	out, err := importVouch(data)
	if err != nil {
		fmt.Fprintln(stderr, "forwardauth:", err)
		return 1
	}
	_, _ = io.WriteString(stdout, out)
	return 0
}

// importVouch converts a Vouch Proxy config into plexgate YAML, with one
// comment line per Vouch option it cannot carry over.
func importVouch(data []byte) (string, error) {
	var vc vouchConfig
	if err := yaml.Unmarshal(data, &vc); err != nil {
		return "", fmt.Errorf("import-vouch: %w", err)
	}
	if vc.Vouch == nil && vc.OAuth == nil {
		return "", fmt.Errorf("import-vouch: no vouch: or oauth: section")
	}
	cfg := config.Default()
	cfg.Session.SigningKeyFile = "/etc/plexgate/session.pem"
	im := &importer{cfg: &cfg, v: mapping(vc.Vouch), o: mapping(vc.OAuth)}
	im.oauth()
	im.vouch()
	var body strings.Builder
	enc := yaml.NewEncoder(&body)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return "", fmt.Errorf("import-vouch: %w", err)
	}
	var b strings.Builder
	b.WriteString("# plexgate forwardauth config imported from Vouch Proxy (forwardauth -import-vouch)\n")
	b.WriteString("# Create the signing key first: forwardauth -genkey > /etc/plexgate/session.pem\n")
	b.WriteString("# Then check it: forwardauth -check -config this-file.yml\n")
	for _, n := range im.notes {
		b.WriteString("# not carried over: " + n + "\n")
	}
	b.WriteString(body.String())
	return b.String(), nil
}

// mapping is a YAML section as a generic map.
type mapping map[string]any

func (m mapping) str(key string) string {
	if v, ok := m[key]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

func (m mapping) list(key string) []string {
	items, _ := m[key].([]any)
	out := []string{}
	for _, v := range items {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

func (m mapping) sub(key string) mapping {
	v, _ := m[key].(map[string]any)
	return v
}

func (m mapping) has(key string) bool { _, ok := m[key]; return ok }

// importer carries one conversion.
type importer struct {
	cfg   *config.Config
	v, o  mapping
	notes []string
}

func (im *importer) note(format string, args ...any) {
	im.notes = append(im.notes, fmt.Sprintf(format, args...))
}

// oauth maps the oauth: section.
func (im *importer) oauth() {
	o, c := im.o, &im.cfg.OIDC
	c.ClientID, c.ClientSecret = o.str("client_id"), o.str("client_secret")
	if s := o.list("scopes"); len(s) > 0 {
		c.Scopes = s
	}
	c.Issuer = issuerFromAuthURL(o.str("auth_url"))
	if cb := o.str("callback_url"); cb != "" {
		if u, err := url.Parse(cb); err == nil {
			u.Path = strings.TrimSuffix(u.Path, "/auth")
			im.cfg.PublicURL = u.String()
		}
	}
	if p := o.str("provider"); p != "" && p != "oidc" {
		im.note("oauth.provider %q: plexgate speaks OpenID Connect only; use your provider's OIDC issuer", p)
	}
	for _, k := range []string{"token_url", "user_info_url", "end_session_endpoint"} {
		if o.has(k) {
			im.note("oauth.%s: discovered from oidc.issuer", k)
		}
	}
	if o.has("code_challenge_method") {
		im.note("oauth.code_challenge_method: PKCE with S256 is always on")
	}
	if o.has("callback_urls") {
		im.note("oauth.callback_urls: plexgate has one callback, public_url + /auth")
	}
	if c.Issuer == "" {
		im.note("oauth.auth_url: could not derive oidc.issuer; set it, e.g. https://<org>.okta.com/oauth2/default")
	}
}

// issuerFromAuthURL turns an Okta-style authorize URL into its issuer:
// https://org.okta.com/oauth2/default/v1/authorize → https://org.okta.com/oauth2/default.
func issuerFromAuthURL(auth string) string {
	for _, suffix := range []string{"/v1/authorize", "/authorize", "/protocol/openid-connect/auth"} {
		if strings.HasSuffix(auth, suffix) {
			return strings.TrimSuffix(auth, suffix)
		}
	}
	return ""
}
