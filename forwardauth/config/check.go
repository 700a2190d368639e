package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Check checks cfg and returns every problem at once, each naming its key
// (an *Error). It reads nothing and changes nothing.
func (c *Config) Check() error {
	var p Problems
	c.checkServer(&p)
	c.checkOIDC(&p)
	c.checkSession(&p)
	c.checkAuthz(&p)
	c.checkHeaders(&p)
	c.checkPlex(&p)
	for _, d := range c.Redirect.AllowedDomains {
		if !validDomainPattern(d) {
			p.addf("redirect.allowed_domains", "%q is not a host name or *.suffix", d)
		}
	}
	return p.err()
}

// Problems collects configuration errors, one "key: message" line each.
// The zero value is empty and ready to use.
type Problems []string

func (p *Problems) addf(key, format string, args ...any) {
	*p = append(*p, key+": "+fmt.Sprintf(format, args...))
}

func (p Problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Problems: p}
}

// Addf adds the problem format (fmt.Sprintf syntax) for the config key.
func (p *Problems) Addf(key, format string, args ...any) { p.addf(key, format, args...) }

// Err returns nil when there is no problem, else an *Error holding them all.
func (p Problems) Err() error { return p.err() }

// Error lists every configuration problem found.
type Error struct {
	// Problems holds one "key: message" line per problem.
	Problems []string
}

func (e *Error) Error() string {
	return "config: " + strings.Join(e.Problems, "; ")
}

// ProblemsOf returns the problem lines of err (one line when err is not an *Error).
func ProblemsOf(err error) []string {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Problems
	}
	return []string{err.Error()}
}

func (c *Config) checkServer(p *Problems) {
	if c.Listen == "" {
		p.addf("listen", "must not be empty")
	}
	if c.PublicURL == "" {
		p.addf("public_url", "is required, e.g. https://auth.example.com")
	} else if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		p.addf("public_url", "%q must be an absolute http(s) URL without query", c.PublicURL)
	}
	if !oneOf(c.Log.Level, "debug", "info", "warn", "error") {
		p.addf("log.level", "%q must be debug, info, warn or error", c.Log.Level)
	}
	if !oneOf(c.Log.Format, "text", "json") {
		p.addf("log.format", "%q must be text or json", c.Log.Format)
	}
}

func (c *Config) checkOIDC(p *Problems) {
	o := c.OIDC
	if o.Issuer == "" {
		p.addf("oidc.issuer", "is required, e.g. https://dev-123456.okta.com/oauth2/default")
	} else if u, err := url.Parse(o.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		p.addf("oidc.issuer", "%q must be an absolute http(s) URL", o.Issuer)
	}
	if o.ClientID == "" {
		p.addf("oidc.client_id", "is required")
	}
	switch {
	case o.ClientSecret == "" && o.ClientSecretFile == "":
		p.addf("oidc.client_secret", "is required (or oidc.client_secret_file)")
	case o.ClientSecret != "" && o.ClientSecretFile != "":
		p.addf("oidc.client_secret", "set either oidc.client_secret or oidc.client_secret_file, not both")
	}
	if !slices.Contains(o.Scopes, "openid") {
		p.addf("oidc.scopes", "must contain openid")
	}
}

func (c *Config) checkSession(p *Problems) {
	s := c.Session
	if !validCookieName(s.CookieName) {
		p.addf("session.cookie_name", "%q is not a valid cookie name", s.CookieName)
	}
	if s.CookieDomain != "" && !ValidHost(strings.TrimPrefix(s.CookieDomain, ".")) {
		p.addf("session.cookie_domain", "%q is not a domain name", s.CookieDomain)
	} else if host := publicHost(c.PublicURL); s.CookieDomain != "" && host != "" && !withinDomain(host, s.CookieDomain) {
		p.addf("session.cookie_domain", "public_url host %q is not within %q, so browsers would refuse the cookie", host, s.CookieDomain)
	}
	if !strings.HasPrefix(s.CookiePath, "/") || strings.ContainsAny(s.CookiePath, ";\r\n ") {
		p.addf("session.cookie_path", "%q must start with / and contain no ; or spaces", s.CookiePath)
	}
	if s.MaxAge < time.Minute {
		p.addf("session.max_age", "%s is too short (at least 1m)", s.MaxAge)
	}
	if s.RefreshAfter < time.Second || s.RefreshAfter > s.MaxAge {
		p.addf("session.refresh_after", "%s must be at least 1s and at most session.max_age (%s)", s.RefreshAfter, s.MaxAge)
	}
	if s.Leeway < 0 || s.Leeway > 5*time.Minute {
		p.addf("session.leeway", "%s must be between 0 and 5m", s.Leeway)
	}
	if s.Audience == "" {
		p.addf("session.audience", "must not be empty")
	}
	hmac := s.HMACSecret != "" || s.HMACSecretFile != ""
	switch {
	case s.SigningKeyFile == "" && !hmac:
		p.addf("session.signing_key_file", "is required (create one with forwardauth -genkey), or set session.hmac_secret(_file) for HS256")
	case s.SigningKeyFile != "" && hmac:
		p.addf("session.signing_key_file", "set exactly one of session.signing_key_file and session.hmac_secret(_file)")
	case s.HMACSecret != "" && s.HMACSecretFile != "":
		p.addf("session.hmac_secret", "set either session.hmac_secret or session.hmac_secret_file, not both")
	case s.HMACSecret != "" && len(s.HMACSecret) < MinHMACSecret:
		p.addf("session.hmac_secret", "must be at least %d bytes", MinHMACSecret)
	}
}

func (c *Config) checkAuthz(p *Problems) {
	a := c.Authz
	if !a.AllowAll && len(a.Emails) == 0 && len(a.Domains) == 0 && len(a.Groups) == 0 {
		p.addf("authz", "no rule allows anyone: set authz.allow_all or authz.emails, authz.domains, authz.groups")
	}
	if len(a.Groups) > 0 && a.GroupsClaim == "" {
		p.addf("authz.groups_claim", "must not be empty when authz.groups is set")
	}
	if a.RequireMFA && len(a.MFAAMR) == 0 && len(a.MFAACR) == 0 {
		p.addf("authz.require_mfa", "needs authz.mfa_amr or authz.mfa_acr values")
	}
	for _, d := range a.Domains {
		if !ValidHost(strings.TrimPrefix(d, "@")) {
			p.addf("authz.domains", "%q is not a domain name", d)
		}
	}
}

func (c *Config) checkHeaders(p *Problems) {
	if c.Headers.UserClaim == "" {
		p.addf("headers.user_claim", "must not be empty")
	}
	for claim, name := range c.Headers.Claims {
		if claim == "" || !ValidHeaderName(name) {
			p.addf("headers.claims", "%q: %q is not a valid header name", claim, name)
		}
	}
}

// MinHMACSecret is the least length in bytes of an HS256 session secret.
const MinHMACSecret = 32

func oneOf(s string, options ...string) bool { return slices.Contains(options, s) }

func validCookieName(s string) bool {
	return s != "" && ValidHeaderName(s)
}

// ValidHeaderName reports whether s is an RFC 7230 token (a valid header
// or cookie name).
func ValidHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// ValidHost reports whether s is a plain DNS name (letters, digits, hyphens, dots).
func ValidHost(s string) bool {
	if s == "" || len(s) > 253 || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func validDomainPattern(s string) bool {
	return ValidHost(strings.TrimPrefix(s, "*."))
}

// publicHost is the host name of a public URL, or "" when it does not parse.
func publicHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// withinDomain reports whether host is domain or one of its subdomains.
func withinDomain(host, domain string) bool {
	domain = strings.ToLower(strings.TrimPrefix(domain, "."))
	return host == domain || strings.HasSuffix(host, "."+domain)
}
