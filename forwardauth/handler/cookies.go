package handler

import (
	"net/http"
	"strings"
)

// sessionCookie is the session cookie (configured name, domain and path).
// maxAge < 0 deletes it.
func (s *Server) sessionCookie(value string, maxAge int) *http.Cookie {
	c := s.cfg.Session
	return &http.Cookie{
		Name: c.CookieName, Value: value, Domain: c.CookieDomain, Path: c.CookiePath,
		MaxAge: maxAge, Secure: c.Secure, HttpOnly: c.HTTPOnly, SameSite: http.SameSiteLaxMode,
	}
}

// stateCookie carries one login attempt to the callback only (host-only,
// path /auth, always HttpOnly).
func (s *Server) stateCookie(state, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: s.states.CookieName(s.cfg.Session.CookieName, state), Value: value,
		Path: s.basePath() + "/auth", MaxAge: maxAge,
		Secure: s.cfg.Session.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

// hintCookie keeps the raw ID token for RP-initiated logout's
// id_token_hint; it is host-only and sent to /logout only.
func (s *Server) hintCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: s.cfg.Session.CookieName + "_idt", Value: value,
		Path: s.basePath() + "/logout", MaxAge: maxAge,
		Secure: s.cfg.Session.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

func (s *Server) basePath() string { return strings.TrimSuffix(s.public.Path, "/") }
