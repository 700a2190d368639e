package handler

import (
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/plexgate/plexgate/forwardauth/config"
)

// redirects decides which return URLs may be followed.
type redirects struct {
	exact  map[string]bool // host
	suffix []string        // ".example.com"
}

// newRedirects builds the allow list; with no explicit domains it allows
// cookieDomain and its subdomains, or else the public URL's host.
func newRedirects(allowed []string, cookieDomain, publicHost string) *redirects {
	if len(allowed) == 0 {
		if d := strings.TrimPrefix(cookieDomain, "."); d != "" {
			allowed = []string{d, "*." + d}
		} else {
			allowed = []string{publicHost}
		}
	}
	r := &redirects{exact: map[string]bool{strings.ToLower(publicHost): true}}
	for _, d := range allowed {
		d = strings.ToLower(d)
		if rest, ok := strings.CutPrefix(d, "*."); ok {
			r.suffix = append(r.suffix, "."+rest)
		} else {
			r.exact[d] = true
		}
	}
	return r
}

var errBadRedirect = errors.New("redirect: target not allowed")

// check parses raw and returns it when it is an absolute http(s) URL on an
// allowed host without userinfo, backslashes, control characters or
// encoded host tricks; otherwise errBadRedirect.
func (r *redirects) check(raw string) (*url.URL, error) {
	if raw == "" || len(raw) > 4096 || strings.ContainsAny(raw, "\\") || hasControl(raw) {
		return nil, errBadRedirect
	}
	lower := strings.ToLower(raw)
	if !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "http://") {
		return nil, errBadRedirect
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Opaque != "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, errBadRedirect
	}
	authority := raw[len(u.Scheme)+3:]
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	if strings.ContainsAny(authority, "%@") || !r.hostAllowed(u.Hostname()) {
		return nil, errBadRedirect
	}
	if p := u.Port(); p != "" && !allDigits(p) {
		return nil, errBadRedirect
	}
	return u, nil
}

// hostAllowed reports whether host is on the allow list.
func (r *redirects) hostAllowed(host string) bool {
	host = strings.ToLower(host)
	if !config.ValidHost(host) && net.ParseIP(host) == nil {
		return false
	}
	if r.exact[host] {
		return true
	}
	for _, s := range r.suffix {
		if strings.HasSuffix(host, s) && len(host) > len(s) {
			return true
		}
	}
	return false
}

func hasControl(s string) bool {
	for _, c := range s {
		if c < 0x20 || c == 0x7f || c == ' ' {
			return true
		}
	}
	return false
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
