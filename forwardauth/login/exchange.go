package login

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Exchange redeems the code with the PKCE verifier and verifies the ID
// token (iss, aud, exp, signature by go-oidc; nonce, azp, at_hash here).
// It returns the ID token's claims, merged with userinfo's when
// oidc.use_userinfo is set, and the raw ID token. A code the provider
// refuses is a *RejectedError.
func (p *Provider) Exchange(ctx context.Context, d *Discovered, code, verifier, nonce string) (map[string]any, string, error) {
	if code == "" {
		return nil, "", errors.New("oidc: callback without code")
	}
	pctx := p.ctx(ctx)
	tok, err := d.oauth.Exchange(pctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, "", exchangeError(err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, "", errors.New("oidc: token response without id_token")
	}
	idt, err := d.verifier.Verify(pctx, rawID)
	if err != nil {
		return nil, "", fmt.Errorf("oidc: id token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return nil, "", errors.New("oidc: id token nonce mismatch")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, "", fmt.Errorf("oidc: id token claims: %w", err)
	}
	if err := p.checkAZP(idt, claims); err != nil {
		return nil, "", err
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, "", fmt.Errorf("oidc: %w", err)
		}
	}
	if p.useUserinfo {
		if err := mergeUserinfo(pctx, d, tok, idt.Subject, claims); err != nil {
			return nil, "", err
		}
	}
	return claims, rawID, nil
}

// checkAZP requires azp to be our client id when present or when the token
// has several audiences (OIDC Core 3.1.3.7).
func (p *Provider) checkAZP(idt *oidc.IDToken, c map[string]any) error {
	azp, present := c["azp"]
	if !present && len(idt.Audience) <= 1 {
		return nil
	}
	if v, _ := azp.(string); v != p.oauth.ClientID {
		return errors.New("oidc: id token azp is not this client")
	}
	return nil
}

// protectedClaims come from the ID token only, never from userinfo.
var protectedClaims = []string{"iss", "aud", "sub", "exp", "iat", "nbf", "nonce", "azp", "amr", "acr", "auth_time", "at_hash"}

// mergeUserinfo adds the userinfo endpoint's claims to claims.
func mergeUserinfo(ctx context.Context, d *Discovered, tok *oauth2.Token, sub string, claims map[string]any) error {
	ui, err := d.p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return fmt.Errorf("oidc: userinfo: %w", err)
	}
	if ui.Subject != sub {
		return errors.New("oidc: userinfo subject differs from id token")
	}
	var extra map[string]any
	if err := ui.Claims(&extra); err != nil {
		return fmt.Errorf("oidc: userinfo claims: %w", err)
	}
	for k, v := range extra {
		if !slices.Contains(protectedClaims, k) {
			claims[k] = v
		}
	}
	return nil
}
