package handler

import (
	"net/http"
	"net/url"
)

// handleLogout clears the session and, when the provider supports it and
// the ID token is still known, ends the provider session too
// (RP-initiated logout); then it goes to the checked rd or /signed-out.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	target := s.path("/signed-out")
	if rd := r.URL.Query().Get("rd"); rd != "" {
		u, err := s.redirects.check(rd)
		if err != nil {
			badRedirect(w)
			return
		}
		target = u.String()
	}
	hint := ""
	if c, err := r.Cookie(s.cfg.Session.CookieName + "_idt"); err == nil {
		hint = c.Value
	}
	http.SetCookie(w, s.sessionCookie("", -1))
	http.SetCookie(w, s.hintCookie("", -1))
	w.Header().Set("Cache-Control", "no-store")
	if end := s.endSessionURL(r, hint, target); end != "" {
		http.Redirect(w, r, end, http.StatusFound)
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// endSessionURL is the provider's logout URL, or "" when RP-initiated
// logout is off, unsupported or there is no ID token to hint with.
func (s *Server) endSessionURL(r *http.Request, hint, postLogout string) string {
	if !s.cfg.OIDC.EndSession || hint == "" {
		return ""
	}
	d, err := s.provider.Get(r.Context())
	if err != nil || d.EndSession == "" {
		return ""
	}
	u, err := url.Parse(d.EndSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("id_token_hint", hint)
	q.Set("post_logout_redirect_uri", postLogout)
	q.Set("client_id", s.cfg.OIDC.ClientID)
	u.RawQuery = q.Encode()
	return u.String()
}
