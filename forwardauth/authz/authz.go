// Package authz holds forwardauth's authorization rules (authz.* in the
// config) and turns a login's claims into the identity a session carries,
// with the identity headers /validate answers with (headers.*).
package authz

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/session"
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

// Claims are the merged claims of the ID token (and userinfo).
type Claims map[string]any

func (c Claims) str(name string) string {
	s, _ := c[name].(string)
	return s
}

// strings returns a claim that is a string or an array of strings.
func (c Claims) strings(name string) []string {
	switch v := c[name].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// IdentityOf turns claims into an identity with its headers; groupsClaim
// names the claim holding the groups (authz.groups_claim). An email whose
// email_verified claim is false is not used for authorization or headers.
func IdentityOf(c Claims, groupsClaim string, hc config.HeadersConfig) session.Identity {
	id := session.Identity{
		Subject: c.str("sub"), Name: c.str("name"),
		Groups: c.strings(groupsClaim), AMR: c.strings("amr"), ACR: c.str("acr"),
	}
	if v, ok := c["email_verified"].(bool); !ok || v {
		id.Email = c.str("email")
	}
	id.Headers = identityHeaders(c, id, hc)
	return id
}

// identityHeaders computes the headers /validate answers with (the hdr claim).
func identityHeaders(c Claims, id session.Identity, hc config.HeadersConfig) map[string]string {
	h := map[string]string{}
	user := claimText(c[hc.UserClaim])
	if hc.UserClaim == "email" {
		user = id.Email
	}
	if user == "" {
		user = id.Subject
	}
	put(h, "X-Forwarded-User", user)
	put(h, "X-Forwarded-Email", id.Email)
	put(h, "X-Forwarded-Groups", strings.Join(id.Groups, ","))
	names := make([]string, 0, len(hc.Claims))
	for claim := range hc.Claims {
		names = append(names, claim)
	}
	sort.Strings(names)
	for _, claim := range names {
		put(h, hc.Claims[claim], claimText(c[claim]))
	}
	return h
}

// put sets a header when the value is non-empty, dropping control characters.
func put(h map[string]string, name, value string) {
	value = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, value)
	if value != "" {
		h[http.CanonicalHeaderKey(name)] = value
	}
}

// claimText renders a claim as a header value: strings as is, string lists
// comma-joined, anything else as JSON.
func claimText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case []any:
		parts := make([]string, 0, len(t))
		for _, e := range t {
			parts = append(parts, claimText(e))
		}
		return strings.Join(parts, ",")
	case bool, float64, json.Number:
		return fmt.Sprint(t)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
