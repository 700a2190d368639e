package authz

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/session"
)

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
