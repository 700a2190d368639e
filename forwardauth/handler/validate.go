package handler

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/plexgate/plexgate/forwardauth/authz"
	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/session"
)

// handleValidate answers Traefik's forwardAuth contract (docs/contract.md).
func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	orig, err := s.originalURL(r)
	if err != nil {
		s.countValidate("bad_request")
		s.logBadHost(r)
		http.Error(w, "bad request: the original URL is not on an allowed domain", http.StatusBadRequest)
		return
	}
	if s.plex != nil && isPreflight(r) {
		s.answerPreflight(w)
		return
	}
	claims, ok := s.authenticate(r)
	// A session decides, whatever Plex tokens the request carries (as in the
	// plugin, which answers a session from its cache without asking).
	if !ok && s.plex != nil && s.plexDecides(w, r) {
		return
	}
	if !ok {
		s.unauthenticated(w, r, orig)
		return
	}
	if !s.admit(w, r, orig, claims) {
		return
	}
	if s.sessions.Due(claims) && !s.refresh(w, claims) {
		return
	}
	for name, value := range claims.Hdr {
		// only what the plugin would take from hdr (docs/contract.md): a
		// valid name in canonical form, a value without CR, LF or NUL
		if config.ValidHeaderName(name) && textproto.CanonicalMIMEHeaderKey(name) == name && !strings.ContainsAny(value, "\r\n\x00") {
			w.Header()[name] = []string{value}
		}
	}
	s.countValidate("allowed")
	w.WriteHeader(http.StatusOK)
}

// admit applies the deny list, max_age and the current rules to a verified
// session and answers when it is not admitted: a session on the deny list
// or past max_age (counted from the sign-in) is no session (302 or 401), a
// subject on the deny list without a time and a user the rules no longer
// allow get 403, except a browser navigation lacking the second factor the
// rules now require, sent to the login.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, orig *url.URL, c *session.Claims) bool {
	refused, banned := s.deny.Refused(c.SID, c.Subject, s.sessions.SignedIn(c))
	if banned {
		s.log.Debug("subject on the deny list", "sub", c.Subject)
		s.forbidden(w)
		return false
	}
	if refused || s.sessions.Expired(c) {
		s.log.Debug("session on the deny list or past max_age", "sub", c.Subject, "deny_list", refused)
		s.unauthenticated(w, r, orig)
		return false
	}
	why := s.authz.Decide(c.Email, c.Groups, c.AMR, c.ACR)
	if why == authz.DenyMFAMissing && isNavigation(r) {
		s.countValidate("redirect")
		http.Redirect(w, r, s.path("/login")+"?rd="+url.QueryEscape(orig.String()), http.StatusFound)
		return false
	}
	if why != authz.Allowed {
		s.forbidden(w)
		return false
	}
	return true
}

// refresh sets the successor of the session c, past its refresh point, as
// the session cookie. It answers 500 and returns false when it cannot be
// minted (it always could at the sign-in, with the same claims).
func (s *Server) refresh(w http.ResponseWriter, c *session.Claims) bool {
	tok, err := s.sessions.Refresh(c)
	if err != nil {
		s.internalError(w, "session_refresh", err)
		return false
	}
	maxAge := int(c.ExpiresAt.Sub(s.now()).Seconds())
	http.SetCookie(w, s.sessionCookie(tok, max(maxAge, 1)))
	s.metrics.refreshes.Inc()
	return true
}

func (s *Server) forbidden(w http.ResponseWriter) {
	s.countValidate("forbidden")
	http.Error(w, "forbidden", http.StatusForbidden)
}

func (s *Server) countValidate(result string) {
	s.metrics.validate.WithLabelValues(result).Inc()
}

// originalURL rebuilds the protected request's URL from the headers Traefik
// sets and checks it against the allowed domains.
func (s *Server) originalURL(r *http.Request) (*url.URL, error) {
	proto := strings.ToLower(r.Header.Get("X-Forwarded-Proto"))
	host := r.Header.Get("X-Forwarded-Host")
	uri := r.Header.Get("X-Forwarded-Uri")
	if uri == "" {
		uri = "/"
	}
	if (proto != "https" && proto != "http") || host == "" || !strings.HasPrefix(uri, "/") || strings.HasPrefix(uri, "//") {
		return nil, errBadRedirect
	}
	return s.redirects.check(proto + "://" + host + uri)
}

// authenticate returns the verified claims of the request's session cookie
// or Bearer token; ok false means not authenticated, a result rather than
// an error (a rejected token is logged at debug level and skipped).
// Verified tokens are cached.
func (s *Server) authenticate(r *http.Request) (claims *session.Claims, ok bool) {
	for _, raw := range s.tokens(r) {
		if c, ok := s.cache.get(raw); ok {
			return c, true
		}
		c, err := s.sessions.Verify(raw)
		if err != nil {
			s.log.Debug("session rejected", "err", err)
			continue
		}
		s.cache.put(raw, c)
		return c, true
	}
	return nil, false
}

// maxSessionCookies bounds how many same-named session cookies are tried,
// as in the plugin (browsers send several when cookies of one name exist
// for several domains or paths, e.g. one planted by a sibling subdomain).
const maxSessionCookies = 4

// maxTokenBytes bounds the tokens looked at, as in the plugin: forwardauth
// never mints a cookie over 3.5 KB, so anything longer is not its token and
// is refused before any parsing.
const maxTokenBytes = 4096

// tokens lists the candidate session tokens: every session cookie (at most
// maxSessionCookies), then a Bearer token.
func (s *Server) tokens(r *http.Request) []string {
	var out []string
	for _, c := range r.CookiesNamed(s.cfg.Session.CookieName) {
		if c.Value != "" && len(c.Value) <= maxTokenBytes && len(out) < maxSessionCookies {
			out = append(out, c.Value)
		}
	}
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") && tok != "" && len(tok) <= maxTokenBytes {
		out = append(out, strings.TrimSpace(tok))
	}
	return out
}

// unauthenticated sends browsers to the login page and API callers a 401.
func (s *Server) unauthenticated(w http.ResponseWriter, r *http.Request, orig *url.URL) {
	if isNavigation(r) {
		s.countValidate("redirect")
		http.Redirect(w, r, s.path("/login")+"?rd="+url.QueryEscape(orig.String()), http.StatusFound)
		return
	}
	s.countValidate("unauthorized")
	w.Header().Set("WWW-Authenticate", `Bearer realm="plexgate"`)
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}

// isNavigation reports a browser page load: GET or HEAD, not XHR, not
// asking for JSON, without an Authorization header (API clients send one).
func isNavigation(r *http.Request) bool {
	method := r.Header.Get("X-Forwarded-Method")
	if method == "" {
		method = r.Method
	}
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	if r.Header.Get("X-Requested-With") != "" || r.Header.Get("Authorization") != "" {
		return false
	}
	return !strings.Contains(strings.ToLower(r.Header.Get("Accept")), "application/json")
}
