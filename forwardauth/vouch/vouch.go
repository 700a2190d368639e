// Package vouch converts a Vouch Proxy config.yml into a plexgate
// forwardauth config (forwardauth -import-vouch).
package vouch

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/plexgate/plexgate/forwardauth/config"
)

// ImportFile runs -import-vouch on the Vouch Proxy config at path: the
// plexgate config on stdout, every warning on stderr. It returns the exit
// code: 1 when no usable config can be derived.
func ImportFile(path string, stdout, stderr io.Writer) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "forwardauth: import-vouch:", err)
		return 1
	}
	res, err := importVouch(data)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(stderr, "forwardauth:", line)
		}
		return 1
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, "forwardauth: import-vouch:", w)
	}
	if n := len(res.Notes); n > 0 {
		fmt.Fprintf(stderr, "forwardauth: import-vouch: %d Vouch options not carried over, each named in a comment at the top of the output\n", n)
	}
	_, _ = io.WriteString(stdout, res.YAML)
	return 0
}

// vouchImport is the result of one conversion.
type vouchImport struct {
	// YAML is the plexgate config, its comments naming every warning and note.
	YAML string
	// Warnings are what the user must check or do (also printed on stderr).
	Warnings []string
	// Notes name the Vouch options not carried over, with the reason.
	Notes []string
}

// importVouch converts a Vouch Proxy config.yml into plexgate YAML. It reads
// Vouch's own layout (top-level oauth:, vouch.headers.claims) and the layout
// of the widely followed guides (oauth: inside vouch:, vouch.claims). A config
// from which no OIDC issuer or client id can be derived is an error.
func importVouch(data []byte) (*vouchImport, error) {
	var top map[string]any
	if err := yaml.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("import-vouch: %w", err)
	}
	root := newSection("", top)
	im := &importer{}
	v, o := im.sections(root)
	if v == nil && o == nil {
		return nil, errors.New("import-vouch: no vouch: or oauth: section; is this a Vouch Proxy config.yml?")
	}
	cfg := config.Default()
	cfg.Session.SigningKeyFile = "/etc/plexgate/session.pem"
	im.cfg = &cfg
	im.oauth(o)
	im.vouch(v)
	if len(im.errs) > 0 {
		return nil, fmt.Errorf("import-vouch: cannot build a plexgate config:\n  - %s", strings.Join(im.errs, "\n  - "))
	}
	var body strings.Builder
	enc := yaml.NewEncoder(&body)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return nil, fmt.Errorf("import-vouch: %w", err)
	}
	var b strings.Builder
	b.WriteString("# plexgate forwardauth config imported from Vouch Proxy (forwardauth -import-vouch)\n")
	b.WriteString("# Create the signing key first: forwardauth -genkey > /etc/plexgate/session.pem\n")
	b.WriteString("# Then check it: forwardauth -check -config this-file.yml\n")
	for _, w := range im.warnings {
		b.WriteString("# check: " + oneLine(w) + "\n")
	}
	for _, n := range im.notes {
		b.WriteString("# not carried over: " + oneLine(n) + "\n")
	}
	b.WriteString(body.String())
	return &vouchImport{YAML: b.String(), Warnings: im.warnings, Notes: im.notes}, nil
}

// sections finds the vouch: and oauth: sections in either layout. An oauth:
// both at the top and inside vouch: is merged, the top level (the one Vouch
// itself reads) winning.
func (im *importer) sections(root *section) (v, o *section) {
	v, o = root.sub("vouch"), root.sub("oauth")
	for _, k := range root.unused() {
		im.note("%s: not a Vouch Proxy section (those are vouch: and oauth:); ignored", root.name(k))
	}
	if v == nil {
		return v, o
	}
	nested := v.sub("oauth")
	switch {
	case nested != nil && o == nil:
		o = nested
	case nested != nil:
		for _, k := range nested.keys() {
			if o.has(k) {
				im.warn("vouch.oauth.%s: also set in the top-level oauth:, whose value is used", nested.names[k])
				continue
			}
			o.vals[k], o.names[k] = nested.vals[k], nested.names[k]
		}
	}
	return v, o
}

// section is one YAML mapping of the Vouch config. Keys are matched without
// regard to case, as Vouch (viper) does; names keep the spelling for messages.
type section struct {
	path  string         // dotted path, e.g. "vouch.cookie"; "" for the root
	vals  map[string]any // by lower-case key
	names map[string]string
	used  map[string]bool
	subs  map[string]*section // read once, so that their used keys are kept
}

func newSection(path string, m map[string]any) *section {
	s := &section{path: path, vals: map[string]any{}, names: map[string]string{},
		used: map[string]bool{}, subs: map[string]*section{}}
	for k, v := range m {
		s.vals[strings.ToLower(k)], s.names[strings.ToLower(k)] = v, k
	}
	return s
}

// name is the dotted path of key as written in the file.
func (s *section) name(key string) string {
	n := s.names[strings.ToLower(key)]
	if n == "" {
		n = key
	}
	if s.path == "" {
		return n
	}
	return s.path + "." + n
}

func (s *section) get(key string) (any, bool) {
	if s == nil {
		return nil, false
	}
	key = strings.ToLower(key)
	v, ok := s.vals[key]
	if ok {
		s.used[key] = true
	}
	return v, ok && v != nil
}

func (s *section) has(key string) bool { _, ok := s.get(key); return ok }

func (s *section) str(key string) string {
	if v, ok := s.get(key); ok {
		if _, isMap := v.(map[string]any); !isMap {
			return strings.TrimSpace(fmt.Sprint(v))
		}
	}
	return ""
}

// list reads a YAML sequence, or a space- or comma-separated string.
func (s *section) list(key string) []string {
	v, _ := s.get(key)
	var out []string
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if str := strings.TrimSpace(fmt.Sprint(e)); str != "" {
				out = append(out, str)
			}
		}
	case string:
		out = strings.FieldsFunc(t, func(r rune) bool { return r == ',' || r == ' ' })
	}
	return out
}

// sub is the mapping under key, nil when there is none.
func (s *section) sub(key string) *section {
	v, _ := s.get(key)
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	key = strings.ToLower(key)
	if sub := s.subs[key]; sub != nil {
		return sub
	}
	sub := newSection(s.name(key), m)
	s.subs[key] = sub
	return sub
}

// keys are the section's lower-case keys, sorted.
func (s *section) keys() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.vals))
	for k := range s.vals {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// unused are the keys no mapper has read, sorted.
func (s *section) unused() []string {
	var out []string
	for _, k := range s.keys() {
		if !s.used[k] {
			out = append(out, k)
		}
	}
	return out
}

// importer carries one conversion.
type importer struct {
	cfg      *config.Config
	errs     []string // no usable config without these
	warnings []string
	notes    []string
}

func (im *importer) note(format string, args ...any) {
	im.notes = append(im.notes, fmt.Sprintf(format, args...))
}

func (im *importer) warn(format string, args ...any) {
	im.warnings = append(im.warnings, fmt.Sprintf(format, args...))
}

func (im *importer) fail(format string, args ...any) {
	im.errs = append(im.errs, fmt.Sprintf(format, args...))
}

// oneLine keeps a value from the Vouch file from breaking out of a comment.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// oauth maps the oauth: section (top-level or inside vouch:). No issuer or
// no client id is an error: the import never writes an empty one.
func (im *importer) oauth(o *section) {
	c := &im.cfg.OIDC
	where := "oauth"
	if o != nil {
		where = o.path
	}
	if p := strings.ToLower(o.str("provider")); p != "" && p != "oidc" && p != "google" && p != "azure" {
		im.warn("%s.provider %q: plexgate speaks OpenID Connect only; use your provider's OIDC issuer", where, p)
	}
	c.ClientID = o.str("client_id")
	if c.ClientID == "" {
		im.fail("%s.client_id is missing: plexgate needs the OIDC client id (Vouch may have had it from OAUTH_CLIENT_ID)", where)
	}
	im.issuer(o, where)
	im.clientSecret(o.str("client_secret"), where)
	c.Scopes = o.list("scopes")
	switch {
	case len(c.Scopes) == 0:
		c.Scopes = []string{"openid", "email", "profile"}
		im.warn("oidc.scopes: %s.scopes is empty; plexgate asks for openid, email and profile (add groups if your provider has that scope)", where)
	case !slices.Contains(c.Scopes, "openid"):
		c.Scopes = append([]string{"openid"}, c.Scopes...)
		im.warn("oidc.scopes: openid added; OpenID Connect needs it")
	}
	if o.has("user_info_url") {
		c.UseUserinfo = true
		im.warn("oidc.use_userinfo: true, as Vouch read the user's claims from %s.user_info_url", where)
	}
	im.publicURL(o, where)
	im.leftovers(o)
}

// issuer derives oidc.issuer from the first provider endpoint it recognises.
func (im *importer) issuer(o *section, where string) {
	keys := []string{"auth_url", "token_url", "user_info_url", "end_session_endpoint"}
	for _, k := range keys {
		if iss := issuerFromEndpoint(o.str(k)); iss != "" {
			im.cfg.OIDC.Issuer = iss
			im.warn("oidc.issuer %s, derived from %s.%s: check that it equals the issuer in %s/.well-known/openid-configuration", iss, where, k, iss)
			return
		}
	}
	if strings.EqualFold(o.str("provider"), "google") {
		im.cfg.OIDC.Issuer = "https://accounts.google.com"
		return
	}
	got := "none is set"
	if raw := o.str("auth_url"); raw != "" {
		got = fmt.Sprintf("auth_url %q is not an authorize URL it can be derived from", raw)
	}
	im.fail("%s: no OIDC issuer can be derived (%s); set %s.auth_url to the provider's authorize endpoint, e.g. https://dev-123456.okta.com/oauth2/default/v1/authorize", where, got, where)
}

// issuerFromEndpoint turns a provider endpoint into its issuer, for the URL
// shapes of Okta (custom and org authorization servers), Keycloak, Azure AD
// v2, Google, and providers whose issuer is their host (Auth0, GitLab,
// Authelia); "" when the URL has none of them (GitHub is not OIDC).
func issuerFromEndpoint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	if h := strings.ToLower(u.Hostname()); h == "accounts.google.com" || h == "oauth2.googleapis.com" || h == "openidconnect.googleapis.com" {
		return "https://accounts.google.com"
	}
	base := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.Path, "/")
	end := path[strings.LastIndex(path, "/")+1:]
	if !slices.Contains([]string{"authorize", "authorization", "auth", "token", "userinfo", "logout"}, end) {
		return ""
	}
	rest := strings.TrimSuffix(path, "/"+end)
	switch {
	case rest == "/oauth2/v1": // Okta org authorization server
		return base
	case strings.HasPrefix(rest, "/oauth2/") && strings.HasSuffix(rest, "/v1"): // Okta custom authorization server
		return base + strings.TrimSuffix(rest, "/v1")
	case strings.HasSuffix(rest, "/protocol/openid-connect"): // Keycloak realm
		return base + strings.TrimSuffix(rest, "/protocol/openid-connect")
	case strings.HasSuffix(rest, "/oauth2/v2.0"): // Azure AD v2 tenant
		return base + strings.TrimSuffix(rest, "/oauth2/v2.0") + "/v2.0"
	case rest == "" || rest == "/oauth" || rest == "/api/oidc": // Auth0, GitLab, Authelia: the issuer is the host
		return base
	}
	return ""
}

// clientSecret keeps an inline secret (with a warning) or points at a file.
func (im *importer) clientSecret(secret, where string) {
	if secret != "" {
		im.cfg.OIDC.ClientSecret = secret
		im.warn("oidc.client_secret: carried over inline from %s.client_secret; better write it to a file readable only by forwardauth and set oidc.client_secret_file instead", where)
		return
	}
	im.cfg.OIDC.ClientSecretFile = "/etc/plexgate/oidc_client_secret"
	im.warn("oidc.client_secret_file: %s.client_secret is not set (Vouch may have had it from OAUTH_CLIENT_SECRET); write the secret to /etc/plexgate/oidc_client_secret", where)
}

// publicURL sets public_url from Vouch's callback URL (public_url + /auth).
func (im *importer) publicURL(o *section, where string) {
	cb, key := o.str("callback_url"), "callback_url"
	if urls := o.list("callback_urls"); cb == "" && len(urls) > 0 {
		cb, key = urls[0], "callback_urls"
		if len(urls) > 1 {
			im.warn("public_url: plexgate has one callback, public_url + /auth; taken from the first of %s.callback_urls (%s)", where, urls[0])
		}
	}
	u, err := url.Parse(cb)
	if cb == "" || err != nil || u.Host == "" {
		im.warn("public_url: no usable %s.%s; set public_url to forwardauth's external URL, e.g. https://auth.example.com", where, key)
		return
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/auth")
	u.RawQuery, u.Fragment = "", ""
	im.cfg.PublicURL = u.String()
}
