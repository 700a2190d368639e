package vouch

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plexgate/plexgate/forwardauth/config"
)

// vouchUnmapped are the Vouch options with no plexgate equivalent, by
// section and key (matched without regard to case), with the reason the
// import gives. Every other
// key a mapper does not read is reported as unknown.
var vouchUnmapped = map[string]map[string]string{
	"vouch": {
		"testing":       "plexgate has no testing mode; use log.level: debug",
		"socket_mode":   "plexgate listens on TCP only",
		"socket_group":  "plexgate listens on TCP only",
		"writeTimeout":  "plexgate's server timeouts are fixed (read 30s, write 30s, idle 2m)",
		"readTimeout":   "plexgate's server timeouts are fixed (read 30s, write 30s, idle 2m)",
		"idleTimeout":   "plexgate's server timeouts are fixed (read 30s, write 30s, idle 2m)",
		"document_root": "plexgate serves under the path of public_url (taken from oauth.callback_url)",
		"publicAccess":  "plexgate never lets a request without a valid credential through",
		"teamWhitelist": "GitHub teams: use authz.groups with your provider's groups claim",
		"tls":           "Traefik terminates TLS in front of plexgate",
		"test_url":      "plexgate has no testing page",
		"test_urls":     "plexgate has no testing page",
		"session":       "plexgate keeps each login's state in its own signed, short-lived cookie",
	},
	"vouch.jwt": {
		"secret":           "plexgate signs its own tokens (EdDSA key from -genkey); users sign in once again",
		"issuer":           "plexgate signs its own tokens (EdDSA key from -genkey); users sign in once again",
		"compress":         "plexgate signs its own tokens (EdDSA key from -genkey); users sign in once again",
		"signing_method":   "plexgate signs its own tokens (EdDSA key from -genkey); users sign in once again",
		"private_key_file": "plexgate signs its own tokens (EdDSA key from -genkey); users sign in once again",
		"public_key_file":  "plexgate signs its own tokens (EdDSA key from -genkey); users sign in once again",
	},
	"vouch.cookie": {
		"name":     "plexgate uses session.cookie_name (default plexgate_session)",
		"sameSite": "plexgate's session cookie is always SameSite=Lax",
	},
	"vouch.headers": {
		"jwt":         "plexgate answers with X-Forwarded-User/-Email/-Groups and headers.claims only",
		"querystring": "plexgate answers with X-Forwarded-User/-Email/-Groups and headers.claims only",
		"redirect":    "plexgate answers with X-Forwarded-User/-Email/-Groups and headers.claims only",
		"success":     "plexgate answers with X-Forwarded-User/-Email/-Groups and headers.claims only",
		"error":       "plexgate answers with X-Forwarded-User/-Email/-Groups and headers.claims only",
		"accesstoken": "plexgate never passes the provider's tokens to upstream applications",
		"idtoken":     "plexgate never passes the provider's tokens to upstream applications",
	},
	"oauth": {
		"token_url":             "discovered from oidc.issuer",
		"user_info_url":         "discovered from oidc.issuer",
		"end_session_endpoint":  "discovered from oidc.issuer (oidc.end_session, default true)",
		"code_challenge_method": "PKCE with S256 is always on",
		"relying_party_id":      "ADFS only; plexgate speaks OpenID Connect",
		"azure_token":           "plexgate verifies the ID token, whatever the provider",
		"user_team_url":         "GitHub only; use authz.groups with your provider's groups claim",
		"user_org_url":          "GitHub only; use authz.groups with your provider's groups claim",
		"discord_use_ids":       "Discord only; plexgate speaks OpenID Connect",
		"preferredDomain":       "use authz.domains to allow an email domain",
		"claims":                "plexgate does not send the OIDC claims request parameter; add the claims to your provider's scopes",
	},
}

// vouchMapped are the keys the mappers read, for did-you-mean suggestions.
var vouchMapped = map[string][]string{
	"vouch":         {"logLevel", "listen", "port", "domains", "whiteList", "allowAllUsers", "jwt", "cookie", "headers", "post_logout_redirect_uris", "oauth", "claims"},
	"vouch.jwt":     {"maxAge"},
	"vouch.cookie":  {"domain", "secure", "httpOnly", "maxAge"},
	"vouch.headers": {"user", "claims", "claimheader"},
	"oauth":         {"provider", "client_id", "client_secret", "auth_url", "callback_url", "callback_urls", "scopes"},
}

// vouch maps the vouch: section.
func (im *importer) vouch(v *section) {
	im.server(v)
	im.access(v)
	h := v.sub("headers")
	im.session(v.sub("jwt"), v.sub("cookie"), v.list("domains"))
	im.headers(h, append(h.list("claims"), v.list("claims")...))
	im.postLogout(v.list("post_logout_redirect_uris"))
	for _, s := range []*section{v.sub("jwt"), v.sub("cookie"), h, v} {
		im.leftovers(s)
	}
}

// leftovers notes every key of s no mapper read: Vouch options without an
// equivalent by their reason, anything else as unknown.
func (im *importer) leftovers(s *section) {
	if s == nil {
		return
	}
	table := strings.TrimPrefix(s.path, "vouch.oauth")
	if table != s.path {
		table = "oauth" + table
	}
	known := append([]string(nil), vouchMapped[table]...)
	for k := range vouchUnmapped[table] {
		known = append(known, k)
	}
	for _, k := range s.unused() {
		if reason, ok := lookupFold(vouchUnmapped[table], k); ok {
			im.note("%s: %s", s.name(k), reason)
			continue
		}
		msg := s.name(k) + ": not a Vouch Proxy option; ignored"
		if best := closest(k, known); best != "" {
			msg += " (did you mean " + s.path + "." + best + "?)"
		}
		im.note("%s", msg)
	}
}

func (im *importer) server(v *section) {
	switch lvl := strings.ToLower(v.str("logLevel")); lvl {
	case "debug", "info", "warn", "error":
		im.cfg.Log.Level = lvl
	case "fatal", "panic":
		im.cfg.Log.Level = "error"
	}
	if port := v.str("port"); port != "" && port != "4181" {
		im.note("vouch.port %s: plexgate listens on :4181 (the port its Traefik config points at); set listen to keep %s", port, port)
	}
	v.get("listen")
}

func (im *importer) access(v *section) {
	a := &im.cfg.Authz
	domains := v.list("domains")
	a.AllowAll = v.str("allowAllUsers") == "true"
	a.Emails = v.list("whiteList")
	if !a.AllowAll && len(a.Emails) == 0 {
		a.Domains = domains
	}
	for _, d := range domains {
		im.cfg.Redirect.AllowedDomains = append(im.cfg.Redirect.AllowedDomains, d, "*."+d)
	}
	if !a.AllowAll && len(a.Emails) == 0 && len(a.Domains) == 0 {
		im.warn("authz: vouch.allowAllUsers, vouch.whiteList and vouch.domains are all empty, so no rule allows anyone; set authz.emails, authz.domains or authz.groups")
	}
}

// vouchDefaultMaxAge is Vouch's default jwt.maxAge and cookie.maxAge (minutes).
const vouchDefaultMaxAge = 240

// session maps jwt.maxAge and the cookie: section. Vouch caps cookie.maxAge
// at jwt.maxAge, both in minutes and 240 by default.
func (im *importer) session(j, c *section, domains []string) {
	s := &im.cfg.Session
	jwtMin := vouchDefaultMaxAge
	if raw := j.str("maxAge"); raw != "" {
		if n, ok := minutes(raw); ok && n > 0 {
			jwtMin = n
		} else {
			im.warn("vouch.jwt.maxAge %q is not a positive number of minutes; session.max_age is Vouch's default, 4h", raw)
		}
	}
	s.MaxAge = time.Duration(jwtMin) * time.Minute
	cookieRaw := c.str("maxAge")
	switch n, ok := minutes(cookieRaw); {
	case cookieRaw != "" && !ok:
		im.warn("vouch.cookie.maxAge %q is not a number of minutes; session.max_age is %s (vouch.jwt.maxAge)", cookieRaw, s.MaxAge)
	case ok && n == 0:
		im.warn("vouch.cookie.maxAge 0 made Vouch's cookie a browser-session cookie (gone when the browser closes); "+
			"plexgate's session cookie always carries Max-Age = session.max_age (%s), so it survives a browser restart "+
			"until then; lower session.max_age to shorten sessions", s.MaxAge)
	case ok && n < jwtMin:
		s.MaxAge = time.Duration(n) * time.Minute
	}
	im.cookieDomain(c.str("domain"), domains)
	if c.str("secure") == "false" {
		s.Secure = false
		im.warn("vouch.cookie.secure false: carried over as session.secure: false, so the session cookie also travels over plain HTTP; set it to true once every site is on HTTPS")
	}
	if c.str("httpOnly") == "false" {
		im.warn("vouch.cookie.httpOnly false: not carried over; session.http_only stays true so page scripts cannot read the session token (set it to false only if an application really reads the cookie)")
	}
}

// cookieDomain sets session.cookie_domain: Vouch's cookie.domain, or else the
// vouch.domains entry Vouch would have used for its own host.
func (im *importer) cookieDomain(domain string, domains []string) {
	if domain != "" {
		im.cfg.Session.CookieDomain = domain
		return
	}
	host := ""
	if u, err := url.Parse(im.cfg.PublicURL); err == nil {
		host = strings.ToLower(u.Hostname())
	}
	for _, d := range domains {
		if d = strings.ToLower(strings.TrimPrefix(d, ".")); host != "" && (host == d || strings.HasSuffix(host, "."+d)) {
			im.cfg.Session.CookieDomain = d
			im.warn("session.cookie_domain %s: Vouch's cookie domain for its host %s (vouch.domains); every site behind plexgate must be within it", d, host)
			return
		}
	}
	im.warn("session.cookie_domain: no vouch.cookie.domain, and no vouch.domains entry holds the public_url host; set it to the domain of your sites, e.g. example.com")
}

// pluginMaxSeparators is the most "-" or "_" a name in the plugin's
// AuthResponseHeaders may have (plugin/headers.go maxSeparators).
const pluginMaxSeparators = 6

// vouchClaimPrefix is Vouch's default headers.claimheader.
const vouchClaimPrefix = "X-Vouch-IdP-Claims-"

// headers carries Vouch's claim headers and user header into headers.claims,
// so that upstream applications keep receiving them under the same names.
func (im *importer) headers(h *section, claims []string) {
	prefix := h.str("claimheader")
	if prefix == "" {
		prefix = vouchClaimPrefix
	}
	user := h.str("user")
	if user == "" {
		user = "X-Vouch-User" // Vouch's default headers.user
	}
	userClaim := im.cfg.Headers.UserClaim
	m := map[string]string{userClaim: user}
	var names []string
	for _, claim := range claims {
		name := vouchClaimHeader(prefix, claim)
		if claim == userClaim {
			im.warn("headers.claims: the %s claim goes out as %s only, not also as %s (one header per claim; X-Forwarded-Email carries it too)", claim, user, name)
			continue
		}
		if _, dup := m[claim]; !dup {
			m[claim] = name
			names = append(names, claim+" → "+name)
		}
	}
	im.cfg.Headers.Claims = m
	im.warn("headers.claims: %s → %s (Vouch's user header)%s; Traefik passes them to the upstream only when they are listed "+
		"in the plexgate plugin's AuthResponseHeaders (with a forwardAuth middleware instead: in authResponseHeaders, "+
		"and in authResponseHeadersRegex so that client-sent copies are removed)", userClaim, user, prefixed(", ", names))
	for _, claim := range append([]string{userClaim}, claims...) {
		name := m[claim]
		if n := strings.Count(name, "-") + strings.Count(name, "_"); n > pluginMaxSeparators {
			im.warn("headers.claims: %s has %d separators; the plugin's AuthResponseHeaders allows at most %d: "+
				"rename it in headers.claims (and where the upstream reads claim %s)", name, n, pluginMaxSeparators, claim)
		}
	}
	if len(claims) > 0 && !im.cfg.OIDC.UseUserinfo {
		im.warn("headers.claims: the claims come from the ID token; make sure your provider puts them there, or set oidc.use_userinfo: true")
	}
}

func prefixed(sep string, items []string) string {
	if len(items) == 0 {
		return ""
	}
	return sep + strings.Join(items, sep)
}

// vouchClaimHeader is the header name Vouch gives claim: a URL scheme is
// dropped (Auth0 namespaces claims with URLs), separators, "_", "." and
// anything outside printable ASCII become "-", and the rest is put in
// canonical MIME form behind the prefix (which is kept as written).
func vouchClaimHeader(prefix, claim string) string {
	c := strings.TrimPrefix(strings.TrimPrefix(claim, "http://"), "https://")
	c = strings.Map(func(r rune) rune {
		if r < 33 || r > 126 || strings.ContainsRune(`"(),/\:;<=>?@[]{}_.`, r) {
			return '-'
		}
		return r
	}, c)
	return prefix + http.CanonicalHeaderKey(c)
}

// postLogout allows the hosts of Vouch's post-logout URIs as redirect targets.
func (im *importer) postLogout(uris []string) {
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			im.note("vouch.post_logout_redirect_uris: %q is not an absolute URL", raw)
			continue
		}
		if !allowed(im.cfg.Redirect.AllowedDomains, u.Hostname()) {
			im.cfg.Redirect.AllowedDomains = append(im.cfg.Redirect.AllowedDomains, u.Hostname())
		}
	}
}

// allowed reports whether host matches one of the redirect.allowed_domains
// patterns ("host", or "*.suffix" for every subdomain of suffix).
func allowed(patterns []string, host string) bool {
	host = strings.ToLower(host)
	for _, p := range patterns {
		p = strings.ToLower(p)
		if host == p || (strings.HasPrefix(p, "*.") && strings.HasSuffix(host, p[1:])) {
			return true
		}
	}
	return false
}

// minutes parses one of Vouch's maxAge values (whole minutes).
func minutes(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

// lookupFold is m[key] with key matched without regard to case.
func lookupFold(m map[string]string, key string) (string, bool) {
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// closest is the candidate nearest to key (case-insensitive edit distance at
// most 2; the first in order on a tie), "" when none is near.
func closest(key string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		d := config.EditDistance(strings.ToLower(key), strings.ToLower(c))
		if d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	return best
}
