package handler

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/plexgate/plexgate/forwardauth/login"
	"github.com/plexgate/plexgate/forwardauth/session"
)

// Failed callbacks. Whatever the request or the provider sent reaches logs
// and pages only through login.SafeText (bounded, printable); slog quotes
// it and html/template escapes it. A fault of the request (anyone can send
// /auth?error=… or a garbage code) answers 4xx; only a provider that cannot
// be reached or answers nonsense, or a configuration it refuses, answers 5xx.

// signInAgain answers 400 with a page that links to a new login, back to
// the login state's return URL when there is one.
func (s *Server) signInAgain(w http.ResponseWriter, ls *session.LoginState, why string) {
	link := s.path("/login")
	if ls != nil {
		link += "?rd=" + url.QueryEscape(ls.Return) // checked when the state was minted
	}
	writePage(w, http.StatusBadRequest, pageData{Title: "Sign-in failed",
		Message: why + " Sign in again.", Link: link, LinkText: "Sign in again"})
}

// providerRefused answers the provider's error redirect (RFC 6749 section
// 4.1.2.1) with 400: its error and error_description are shown and logged.
func (s *Server) providerRefused(w http.ResponseWriter, ls *session.LoginState, code, desc string) {
	code, desc = login.SafeText(code), login.SafeText(desc)
	s.metrics.logins.WithLabelValues("provider_error").Inc()
	attrs := []any{"error", code, "error_description", desc}
	if code == "invalid_scope" {
		attrs = append(attrs, "requested_scopes", strings.Join(s.cfg.OIDC.Scopes, " "))
	}
	s.log.Info("provider returned an error", attrs...)
	msg := providerErrorText(code)
	if desc != "" {
		msg += " The provider said: “" + desc + "”"
	}
	if code == "invalid_scope" {
		msg += " forwardauth asked for the scopes " + strings.Join(s.cfg.OIDC.Scopes, ", ") +
			" (oidc.scopes): each must exist on the provider's authorization server."
	}
	s.signInAgain(w, ls, msg)
}

// exchangeFailed answers a failed code exchange or ID-token check: 400 when
// the provider refused the request's code, 502 otherwise.
func (s *Server) exchangeFailed(w http.ResponseWriter, ls *session.LoginState, err error) {
	s.metrics.logins.WithLabelValues("failed").Inc()
	var re *login.RejectedError
	if !errors.As(err, &re) {
		s.log.Warn("login failed", "err", err)
		writePage(w, http.StatusBadGateway, pageData{Title: "Sign-in failed",
			Message: "The sign-in could not be completed. Go back to the site and sign in again."})
		return
	}
	if re.ByRequest() {
		s.log.Info("provider refused the authorization code", "status", re.Status, "error", re.Code, "error_description", re.Description)
		s.signInAgain(w, ls, "This sign-in could not be completed: its code is invalid, expired or already used.")
		return
	}
	s.log.Error("provider refused forwardauth's client; check oidc.client_id, oidc.client_secret and the application's grant types",
		"status", re.Status, "error", re.Code, "error_description", re.Description)
	writePage(w, http.StatusBadGateway, pageData{Title: "Sign-in failed",
		Message: "The sign-in provider refused this site's sign-in configuration. The administrator must check it."})
}

// providerErrorText explains an OAuth error code in words of its own.
func providerErrorText(code string) string {
	switch code {
	case "access_denied":
		return "The sign-in provider denied access (you may not be assigned to this application, or you cancelled)."
	case "login_required", "interaction_required", "consent_required":
		return "The sign-in provider needs you to sign in again."
	case "temporarily_unavailable", "server_error":
		return "The sign-in provider is temporarily unavailable. Try again later."
	case "invalid_scope":
		return "The sign-in provider refused the requested scopes."
	}
	return "The sign-in provider returned an error."
}
