package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
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
	d, err := s.provider.get(r.Context())
	if err != nil {
		s.providerDown(w, err)
		return
	}
	verifier := oauth2.GenerateVerifier()
	ls, raw, err := s.states.mint(target.String(), verifier)
	if err != nil {
		s.internalError(w, "state", err)
		return
	}
	http.SetCookie(w, s.stateCookie(ls.State, raw, int(stateTTL.Seconds())))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, d.oauth.AuthCodeURL(ls.State, oauth2.S256ChallengeOption(verifier), oidc.Nonce(ls.Nonce)), http.StatusFound)
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
	if e := q.Get("error"); e != "" {
		s.metrics.logins.WithLabelValues("provider_error").Inc()
		s.log.Info("provider returned an error", "error", e)
		writePage(w, http.StatusBadRequest, pageData{Title: "Sign-in failed", Message: providerErrorText(e)})
		return
	}
	if stateErr != nil {
		s.metrics.logins.WithLabelValues("failed").Inc()
		s.log.Info("login state rejected", "err", stateErr)
		writePage(w, http.StatusBadRequest, pageData{Title: "Sign-in failed",
			Message: "This sign-in attempt is unknown, expired or already used. Go back to the site and sign in again."})
		return
	}
	d, err := s.provider.get(r.Context())
	if err != nil {
		s.providerDown(w, err)
		return
	}
	s.finishLogin(w, r, d, ls, q.Get("code"))
}

// finishLogin exchanges the code, authorizes the user and sets the session.
func (s *Server) finishLogin(w http.ResponseWriter, r *http.Request, d *discovered, ls *loginState, code string) {
	claims, rawID, err := s.exchange(r.Context(), d, ls, code)
	if err != nil {
		s.metrics.logins.WithLabelValues("failed").Inc()
		s.log.Warn("login failed", "err", err)
		writePage(w, http.StatusBadGateway, pageData{Title: "Sign-in failed",
			Message: "The sign-in could not be completed. Go back to the site and sign in again."})
		return
	}
	id := identityOf(claims, s.cfg.Authz.GroupsClaim, s.cfg.Headers)
	if why := s.authz.decide(id.Email, id.Groups, id.AMR, id.ACR); why != allowed {
		s.metrics.logins.WithLabelValues("denied").Inc()
		s.log.Info("login denied", "sub", id.Subject, "reason", string(why))
		writePage(w, http.StatusForbidden, pageData{Title: "Access denied", Message: string(why), Link: s.path("/logout"), LinkText: "Sign out"})
		return
	}
	tok, err := s.sessions.mint(id)
	if err != nil {
		s.sessionTooLarge(w, err)
		return
	}
	http.SetCookie(w, s.sessionCookie(tok, int(s.cfg.Session.MaxAge.Seconds())))
	if len(rawID) <= maxCookieBytes {
		http.SetCookie(w, s.hintCookie(rawID, int(s.cfg.Session.MaxAge.Seconds())))
	}
	s.metrics.logins.WithLabelValues("success").Inc()
	s.log.Info("login", "sub", id.Subject)
	http.Redirect(w, r, ls.Return, http.StatusFound)
}

func (s *Server) sessionTooLarge(w http.ResponseWriter, err error) {
	if !errors.Is(err, errTooLarge) {
		s.internalError(w, "session", err)
		return
	}
	s.metrics.logins.WithLabelValues("failed").Inc()
	s.metrics.errors.WithLabelValues("session_too_large").Inc()
	s.log.Error("session cookie too large; reduce the groups or headers.claims", "err", err)
	writePage(w, http.StatusInternalServerError, pageData{Title: "Sign-in failed",
		Message: "Your session would not fit in a cookie. The administrator must drop claims: " + err.Error()})
}

// takeState finds the state cookie for state, deletes it and verifies it.
func (s *Server) takeState(w http.ResponseWriter, r *http.Request, state string) (*loginState, error) {
	if state == "" || !validHeaderName(state) || len(state) > 64 {
		return nil, errors.New("state: missing or malformed")
	}
	c, err := r.Cookie(s.states.cookieName(s.cfg.Session.CookieName, state))
	if err != nil {
		return nil, errors.New("state: no cookie for this state")
	}
	http.SetCookie(w, s.stateCookie(state, "", -1))
	return s.states.consume(c.Value, state)
}

// exchange redeems the code with the PKCE verifier and verifies the ID
// token (iss, aud, exp, signature by go-oidc; nonce, azp, at_hash here).
func (s *Server) exchange(ctx context.Context, d *discovered, ls *loginState, code string) (claimSet, string, error) {
	if code == "" {
		return nil, "", errors.New("oidc: callback without code")
	}
	pctx := s.provider.ctx(ctx)
	tok, err := d.oauth.Exchange(pctx, code, oauth2.VerifierOption(ls.Verifier))
	if err != nil {
		return nil, "", fmt.Errorf("oidc: exchange: %w", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, "", errors.New("oidc: token response without id_token")
	}
	idt, err := d.verifier.Verify(pctx, rawID)
	if err != nil {
		return nil, "", fmt.Errorf("oidc: id token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(ls.Nonce)) != 1 {
		return nil, "", errors.New("oidc: id token nonce mismatch")
	}
	var claims claimSet
	if err := idt.Claims(&claims); err != nil {
		return nil, "", fmt.Errorf("oidc: id token claims: %w", err)
	}
	if err := s.checkAZP(idt, claims); err != nil {
		return nil, "", err
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, "", fmt.Errorf("oidc: %w", err)
		}
	}
	if s.cfg.OIDC.UseUserinfo {
		if err := s.mergeUserinfo(pctx, d, tok, idt.Subject, claims); err != nil {
			return nil, "", err
		}
	}
	return claims, rawID, nil
}

// checkAZP requires azp to be our client id when present or when the token
// has several audiences (OIDC Core 3.1.3.7).
func (s *Server) checkAZP(idt *oidc.IDToken, c claimSet) error {
	azp, present := c["azp"]
	if !present && len(idt.Audience) <= 1 {
		return nil
	}
	if v, _ := azp.(string); v != s.cfg.OIDC.ClientID {
		return errors.New("oidc: id token azp is not this client")
	}
	return nil
}

// protectedClaims come from the ID token only, never from userinfo.
var protectedClaims = []string{"iss", "aud", "sub", "exp", "iat", "nbf", "nonce", "azp", "amr", "acr", "auth_time", "at_hash"}

// mergeUserinfo adds the userinfo endpoint's claims to claims.
func (s *Server) mergeUserinfo(ctx context.Context, d *discovered, tok *oauth2.Token, sub string, claims claimSet) error {
	ui, err := d.p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return fmt.Errorf("oidc: userinfo: %w", err)
	}
	if ui.Subject != sub {
		return errors.New("oidc: userinfo subject differs from id token")
	}
	var extra claimSet
	if err := ui.Claims(&extra); err != nil {
		return fmt.Errorf("oidc: userinfo claims: %w", err)
	}
	for k, v := range extra {
		if !contains(protectedClaims, k) {
			claims[k] = v
		}
	}
	return nil
}

// providerErrorText explains an OAuth error code without echoing free text.
func providerErrorText(code string) string {
	switch strings.TrimSpace(code) {
	case "access_denied":
		return "The sign-in provider denied access (you may not be assigned to this application, or you cancelled)."
	case "login_required", "interaction_required", "consent_required":
		return "The sign-in provider needs you to sign in again."
	case "temporarily_unavailable", "server_error":
		return "The sign-in provider is temporarily unavailable. Try again later."
	}
	return "The sign-in provider returned an error. Go back to the site and try again."
}
