package vouch

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// vouch maps the vouch: section; every key it does not use becomes a note.
func (im *importer) vouch() {
	v := im.v
	used := map[string]bool{}
	use := func(keys ...string) {
		for _, k := range keys {
			used[k] = true
		}
	}
	im.server(v, use)
	im.access(v, use)
	im.jwtAndCookie(v.sub("jwt"), v.sub("cookie"))
	im.headers(v.sub("headers"))
	use("jwt", "cookie", "headers")
	im.postLogout(v.list("post_logout_redirect_uris"))
	use("post_logout_redirect_uris")
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !used[k] {
			im.note("vouch.%s: no plexgate equivalent", k)
		}
	}
}

func (im *importer) server(v mapping, use func(...string)) {
	use("logLevel", "listen", "port")
	if lvl := strings.ToLower(v.str("logLevel")); slices.Contains([]string{"debug", "info", "warn", "error"}, lvl) {
		im.cfg.Log.Level = lvl
	}
	if port := v.str("port"); port != "" && port != "4181" {
		im.note("vouch.port %s: plexgate listens on :4181 (the port its Traefik config points at); set listen to keep %s", port, port)
	}
}

func (im *importer) access(v mapping, use func(...string)) {
	use("domains", "whiteList", "allowAllUsers")
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
}

func (im *importer) jwtAndCookie(j, c mapping) {
	if m := minutes(j.str("maxAge")); m > 0 {
		im.cfg.Session.MaxAge = m
	}
	if m := minutes(c.str("maxAge")); m > 0 && (j.str("maxAge") == "" || m < im.cfg.Session.MaxAge) {
		im.cfg.Session.MaxAge = m
	}
	im.cfg.Session.CookieDomain = c.str("domain")
	if s := c.str("secure"); s != "" {
		im.cfg.Session.Secure = s == "true"
	}
	if s := c.str("httpOnly"); s != "" {
		im.cfg.Session.HTTPOnly = s == "true"
	}
	for _, k := range []string{"secret", "issuer", "compress", "signing_method", "private_key_file", "public_key_file"} {
		if j.has(k) {
			im.note("vouch.jwt.%s: plexgate signs its own tokens (EdDSA key from -genkey); users sign in once again", k)
		}
	}
	for _, k := range []string{"name", "sameSite"} {
		if c.has(k) {
			im.note("vouch.cookie.%s: plexgate uses session.cookie_name (default plexgate_session) with SameSite=Lax", k)
		}
	}
}

// headers maps headers.claims to headers.claims entries with Vouch's header
// names, and keeps X-Vouch-User as an extra header for upstream apps.
func (im *importer) headers(h mapping) {
	prefix := h.str("claimheader")
	if prefix == "" {
		prefix = "X-Vouch-IdP-Claims-"
	}
	claims := map[string]string{}
	for _, claim := range h.list("claims") {
		claims[claim] = http.CanonicalHeaderKey(prefix + strings.ReplaceAll(claim, "_", "-"))
	}
	if user := h.str("user"); user != "" {
		claims[im.cfg.Headers.UserClaim] = user
	}
	if len(claims) > 0 {
		im.cfg.Headers.Claims = claims
	}
	for _, k := range []string{"jwt", "querystring", "redirect", "success", "error", "accesstoken", "idtoken", "sub", "issuer", "clientip"} {
		if h.has(k) {
			im.note("vouch.headers.%s: plexgate answers with X-Forwarded-User/-Email/-Groups and headers.claims only", k)
		}
	}
}

// postLogout allows the hosts of Vouch's post-logout URIs as redirect targets.
func (im *importer) postLogout(uris []string) {
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			im.note("vouch.post_logout_redirect_uris: %q is not an absolute URL", raw)
			continue
		}
		if !slices.Contains(im.cfg.Redirect.AllowedDomains, u.Hostname()) {
			im.cfg.Redirect.AllowedDomains = append(im.cfg.Redirect.AllowedDomains, u.Hostname())
		}
	}
}

// minutes parses Vouch's maxAge (minutes) into a duration; 0 when absent or bad.
func minutes(s string) time.Duration {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Minute
}
