// Package authz holds forwardauth's authorization rules (authz.* in the
// config) and turns a login's claims into the identity a session carries,
// with the identity headers /validate answers with (headers.*).
package authz

import (
	"slices"
	"strings"

	"github.com/plexgate/plexgate/forwardauth/config"
)

// Denial says why a signed-in user is not allowed; the text is shown to the
// user and never contains claim values.
type Denial string

const (
	// Allowed is the Denial of an allowed user: none.
	Allowed Denial = ""
	// DenyNotListed denies a user no rule lists.
	DenyNotListed Denial = "Your account is not on the list of users, email domains or groups allowed to use this site."
	// DenyMFAMissing denies a listed user whose sign-in lacks the required MFA.
	DenyMFAMissing Denial = "This site requires two-factor authentication, and your sign-in did not use it. Sign out and sign in again with a second factor."
)

// Rules applies the authorization rules.
type Rules struct {
	cfg     config.AuthzConfig
	emails  map[string]bool
	domains map[string]bool
	groups  map[string]bool
}

// NewRules compiles the rules of cfg (emails and domains case-insensitive,
// groups exact).
func NewRules(cfg config.AuthzConfig) *Rules {
	a := &Rules{cfg: cfg, emails: set(cfg.Emails, true), domains: map[string]bool{}, groups: set(cfg.Groups, false)}
	for _, d := range cfg.Domains {
		a.domains[strings.ToLower(strings.TrimPrefix(d, "@"))] = true
	}
	return a
}

func set(list []string, fold bool) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, v := range list {
		if fold {
			v = strings.ToLower(v)
		}
		m[v] = true
	}
	return m
}

// Decide returns Allowed or the reason the identity is denied.
func (a *Rules) Decide(email string, groups, amr []string, acr string) Denial {
	if !a.listed(email, groups) {
		return DenyNotListed
	}
	if a.cfg.RequireMFA && !a.mfa(amr, acr) {
		return DenyMFAMissing
	}
	return Allowed
}

func (a *Rules) listed(email string, groups []string) bool {
	if a.cfg.AllowAll {
		return true
	}
	email = strings.ToLower(email)
	if email != "" && a.emails[email] {
		return true
	}
	// Only a plain address with one "@" matches a domain rule, so that
	// "x@example.com@evil" and "x@evil@example.com" never do.
	if at := strings.IndexByte(email, '@'); at > 0 && at == strings.LastIndexByte(email, '@') && a.domains[email[at+1:]] {
		return true
	}
	for _, g := range groups {
		if a.groups[g] {
			return true
		}
	}
	return false
}

func (a *Rules) mfa(amr []string, acr string) bool {
	for _, v := range amr {
		if slices.Contains(a.cfg.MFAAMR, v) {
			return true
		}
	}
	return acr != "" && slices.Contains(a.cfg.MFAACR, acr)
}
