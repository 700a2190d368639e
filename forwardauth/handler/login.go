package handler

import (
	"errors"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/plexgate/plexgate/forwardauth/authz"
	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/login"
	"github.com/plexgate/plexgate/forwardauth/session"
)

// handleLogin starts an authorization code flow with PKCE, state and nonce
// for the checked return URL rd.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	rd := r.URL.Query().Get("rd")
	if rd == "" {
		rd = s.path("/")
	}
	target, err := s.redirects.check(rd)
	if err != nil {
		badRedirect(w)
		return
	}
	d, err := s.provider.Get(r.Context())
	if err != nil {
		s.providerDown(w, err)
		return
	}
	verifier := oauth2.GenerateVerifier()
	ls, raw, err := s.states.Mint(target.String(), verifier)
	if err != nil {
		s.internalError(w, "state", err)
		return
	}
	http.SetCookie(w, s.stateCookie(ls.State, raw, int(session.StateTTL.Seconds())))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, d.AuthCodeURL(ls.State, verifier, ls.Nonce), http.StatusFound)
}

// providerDown answers 503 when the provider cannot be discovered.
func (s *Server) providerDown(w http.ResponseWriter, err error) {
	s.metrics.errors.WithLabelValues("provider").Inc()
	s.log.Warn("oidc provider unavailable", "err", err)
	writePage(w, http.StatusServiceUnavailable, pageData{Title: "Sign-in unavailable",
		Message: "The sign-in provider cannot be reached right now. Try again in a minute."})
}

// handleCallback completes the login: state, code exchange, ID token,
// authorization, session cookie, redirect to the return URL.
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	ls, stateErr := s.takeState(w, r, q.Get("state"))
	if q.Has("error") {
		s.providerRefused(w, ls, q.Get("error"), q.Get("error_description"))
		return
	}
	if stateErr != nil {
		s.metrics.logins.WithLabelValues("failed").Inc()
		s.log.Info("login state rejected", "err", stateErr, "state", login.SafeText(q.Get("state")))
		s.signInAgain(w, nil, "This sign-in attempt is unknown, expired or already used.")
		return
	}
	if q.Get("code") == "" {
		s.metrics.logins.WithLabelValues("failed").Inc()
		s.log.Info("callback without code")
		s.signInAgain(w, ls, "The sign-in provider sent no authorization code.")
		return
	}
	d, err := s.provider.Get(r.Context())
	if err != nil {
		s.providerDown(w, err)
		return
	}
	s.finishLogin(w, r, d, ls, q.Get("code"))
}

// finishLogin exchanges the code, authorizes the user and sets the session.
func (s *Server) finishLogin(w http.ResponseWriter, r *http.Request, d *login.Discovered, ls *session.LoginState, code string) {
	claims, rawID, err := s.provider.Exchange(r.Context(), d, code, ls.Verifier, ls.Nonce)
	if err != nil {
		s.exchangeFailed(w, ls, err)
		return
	}
	id := authz.IdentityOf(claims, s.cfg.Authz.GroupsClaim, s.cfg.Headers)
	if why := s.authz.Decide(id.Email, id.Groups, id.AMR, id.ACR); why != authz.Allowed {
		s.metrics.logins.WithLabelValues("denied").Inc()
		s.log.Info("login denied", "sub", id.Subject, "reason", string(why))
		writePage(w, http.StatusForbidden, pageData{Title: "Access denied", Message: string(why), Link: s.path("/logout"), LinkText: "Sign out"})
		return
	}
	if _, banned := s.deny.Refused("", id.Subject, s.now()); banned {
		s.metrics.logins.WithLabelValues("denied").Inc()
		s.log.Info("login denied: subject on the deny list", "sub", id.Subject)
		writePage(w, http.StatusForbidden, pageData{Title: "Access denied", Message: "Your account is not allowed to use this site.", Link: s.path("/logout"), LinkText: "Sign out"})
		return
	}
	tok, err := s.sessions.Mint(id)
	if err != nil {
		s.sessionTooLarge(w, err)
		return
	}
	http.SetCookie(w, s.sessionCookie(tok, int(s.cfg.Session.MaxAge.Seconds())))
	if len(rawID) <= session.MaxCookieBytes {
		http.SetCookie(w, s.hintCookie(rawID, int(s.cfg.Session.MaxAge.Seconds())))
	}
	s.metrics.logins.WithLabelValues("success").Inc()
	s.log.Info("login", "sub", id.Subject)
	http.Redirect(w, r, ls.Return, http.StatusFound)
}

func (s *Server) sessionTooLarge(w http.ResponseWriter, err error) {
	if !errors.Is(err, session.ErrTooLarge) {
		s.internalError(w, "session", err)
		return
	}
	s.metrics.logins.WithLabelValues("failed").Inc()
	s.metrics.errors.WithLabelValues("session_too_large").Inc()
	s.log.Error("session cookie too large; reduce the groups or headers.claims", "err", err)
	writePage(w, http.StatusInternalServerError, pageData{Title: "Sign-in failed",
		Message: "Your session would not fit in a cookie. The administrator must drop claims: " + err.Error()})
}

// takeState finds the state cookie for state, deletes it, verifies it and
// marks the state used; a second call with the same state fails.
func (s *Server) takeState(w http.ResponseWriter, r *http.Request, state string) (*session.LoginState, error) {
	if state == "" || !config.ValidHeaderName(state) || len(state) > 64 {
		return nil, errors.New("state: missing or malformed")
	}
	c, err := r.Cookie(s.states.CookieName(s.cfg.Session.CookieName, state))
	if err != nil {
		return nil, errors.New("state: no cookie for this state")
	}
	http.SetCookie(w, s.stateCookie(state, "", -1))
	ls, err := s.states.Verify(c.Value, state)
	if err != nil {
		return nil, err
	}
	if !s.used.Add(state, ls.ExpiresAt.Time, s.now()) {
		return nil, login.ErrStateUsed
	}
	return ls, nil
}
