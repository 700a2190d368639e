package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Warnings returns the settings that pass Check but will fail at run time,
// each as "key: what will happen; the fix". plexHost is the host name the
// Plex routers serve (forwardauth -check reads PLEXGATE_PLEX_HOST), or ""
// when it is not known. Like Check, Warnings reads nothing and changes
// nothing.
func (c *Config) Warnings(plexHost string) []string {
	var w Problems
	c.warnPlexHost(&w, strings.ToLower(strings.TrimSuffix(plexHost, ".")))
	c.warnAllowedDomains(&w)
	c.warnSecureCookie(&w)
	c.warnGroupsScope(&w)
	return w
}

// ReturnDomains are the host patterns ("host" or "*.suffix") return URLs
// and /validate requests may use: redirect.allowed_domains, by default
// session.cookie_domain and its subdomains, and always the public_url host.
func (c *Config) ReturnDomains() []string {
	out := []string{publicHost(c.PublicURL)}
	if len(c.Redirect.AllowedDomains) > 0 {
		return append(out, c.Redirect.AllowedDomains...)
	}
	if d := c.cookieDomain(); d != "" {
		return append(out, d, "*."+d)
	}
	return out
}

func (c *Config) cookieDomain() string {
	return strings.ToLower(strings.TrimPrefix(c.Session.CookieDomain, "."))
}

// allowedHost reports whether host matches one of the patterns.
func allowedHost(host string, patterns []string) bool {
	for _, p := range patterns {
		p = strings.ToLower(p)
		if suffix, ok := strings.CutPrefix(p, "*."); ok {
			if strings.HasSuffix(host, "."+suffix) {
				return true
			}
		} else if host == p {
			return true
		}
	}
	return false
}

// warnPlexHost checks that requests to the Plex host are accepted by
// /validate and carry the session cookie.
func (c *Config) warnPlexHost(w *Problems, plexHost string) {
	public, domain := publicHost(c.PublicURL), c.cookieDomain()
	if plexHost == "" || plexHost == public {
		return
	}
	parent := parentHint(public, plexHost)
	if !allowedHost(plexHost, c.ReturnDomains()) {
		w.Addf("redirect.allowed_domains", "the Plex host %q is not allowed (allowed: %s), so /validate answers every request to it with 400 \"the original URL is not on an allowed domain\"; set session.cookie_domain to %s, or add %q to redirect.allowed_domains",
			plexHost, strings.Join(c.ReturnDomains(), ", "), parent, plexHost)
	}
	switch {
	case domain == "":
		w.Addf("session.cookie_domain", "is empty, so the session cookie stays on %q and never reaches the Plex host %q: every visit to Plex goes back to the sign-in; set it to %s", public, plexHost, parent)
	case !withinDomain(plexHost, domain):
		w.Addf("session.cookie_domain", "%q does not cover the Plex host %q, so browsers never send it the session cookie: every visit to Plex goes back to the sign-in; set it to %s", domain, plexHost, parent)
	}
}

// warnAllowedDomains flags return hosts the session cookie cannot reach:
// a user sent there arrives signed out and is sent to sign in again.
func (c *Config) warnAllowedDomains(w *Problems) {
	public, domain := publicHost(c.PublicURL), c.cookieDomain()
	for _, d := range c.Redirect.AllowedDomains {
		host := strings.ToLower(strings.TrimPrefix(d, "*."))
		switch {
		case domain == "" && host != public:
			w.Addf("redirect.allowed_domains", "%q: session.cookie_domain is empty, so the session cookie (host-only, for %q) never reaches it and people sent there are asked to sign in again; set session.cookie_domain to %s", d, public, parentHint(public, host))
		case domain != "" && !withinDomain(host, domain):
			w.Addf("redirect.allowed_domains", "%q is outside session.cookie_domain %q, so the session cookie never reaches it and people sent there are asked to sign in again; set session.cookie_domain to %s", d, domain, parentHint(public, host))
		}
	}
}

// warnSecureCookie flags a Secure cookie on a plain-HTTP public URL:
// browsers drop it, so no sign-in ever sticks.
func (c *Config) warnSecureCookie(w *Problems) {
	u, err := url.Parse(c.PublicURL)
	if err != nil || u.Scheme != "http" || !c.Session.Secure {
		return
	}
	w.Addf("session.secure", "is true but public_url %q is plain HTTP: browsers drop a Secure cookie set over HTTP, so nobody stays signed in; serve forwardauth over https (Traefik terminates TLS), or set session.secure: false for a local test only", c.PublicURL)
}

// warnGroupsScope flags group rules without the groups scope: Okta sends
// the groups claim only for it, and then nobody matches.
func (c *Config) warnGroupsScope(w *Problems) {
	a := c.Authz
	if len(a.Groups) == 0 || a.GroupsClaim != "groups" || slices.Contains(c.OIDC.Scopes, "groups") {
		return
	}
	w.Addf("oidc.scopes", "has no groups scope but authz.groups is set: Okta puts the groups claim only into tokens for that scope, so no group would match and everyone gets 403; add groups to oidc.scopes (and create the scope, see docs/okta.md), unless your provider always sends the claim")
}

// parentHint names the common parent domain of two hosts for a fix, e.g.
// "example.com" for auth.example.com and plex.example.com.
func parentHint(a, b string) string {
	la, lb := strings.Split(a, "."), strings.Split(b, ".")
	var common []string
	for i := 1; i <= len(la) && i <= len(lb) && la[len(la)-i] == lb[len(lb)-i]; i++ {
		common = append([]string{la[len(la)-i]}, common...)
	}
	if len(common) < 2 {
		return fmt.Sprintf("a parent domain of both %q and %q (they have none: put both hosts under one domain)", a, b)
	}
	return fmt.Sprintf("%q", strings.Join(common, "."))
}
