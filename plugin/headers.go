package plugin

import (
	"net/http"
	"strings"
)

// maxCredentials bounds how many same-named session cookies are tried.
const maxCredentials = 4

// identityHeaders is the set of identity header names, precomputed in New.
// A client must never be able to send one of them, under any spelling.
type identityHeaders struct {
	// names are the canonical names, in configuration order.
	names []string
	// normalized holds each name lower-cased with "_" turned into "-".
	normalized map[string]bool
	// lengths[n] is true when a name is n bytes long (keys as long as the
	// table or longer are always looked up): most request headers are
	// ruled out by their length alone, which keeps the hit path cheap.
	lengths []bool
	// allowed maps a canonical name to true, for filtering "hdr" claims and
	// forwardauth's answers.
	allowed map[string]bool
}

func newIdentityHeaders(canonical []string) *identityHeaders {
	h := &identityHeaders{
		names:      canonical,
		normalized: make(map[string]bool, len(canonical)),
		lengths:    make([]bool, 64),
		allowed:    make(map[string]bool, len(canonical)),
	}
	for _, name := range canonical {
		h.normalized[normalizeHeader(name)] = true
		h.allowed[name] = true
		if len(name) < len(h.lengths) {
			h.lengths[len(name)] = true
		}
	}
	return h
}

// normalizeHeader lower-cases a header name and turns "_" into "-", so that
// X_Forwarded_User, x-forwarded-user and X-FORWARDED-USER compare equal.
func normalizeHeader(name string) string {
	name = strings.ToLower(name)
	if strings.IndexByte(name, '_') >= 0 {
		name = strings.ReplaceAll(name, "_", "-")
	}
	return name
}

// credentials returns the session tokens the request carries, in the order
// they are tried: every cookie named name (browsers send several when
// cookies of one name exist for several domains or paths), then an
// "Authorization: Bearer" token. The first cookies of them came from
// cookies.
func credentials(req *http.Request, name string) (creds []string, cookies int) {
	for _, c := range req.Cookies() {
		if c.Name == name && c.Value != "" && len(creds) < maxCredentials {
			creds = append(creds, c.Value)
		}
	}
	cookies = len(creds)
	if tok := bearerToken(req); tok != "" {
		creds = append(creds, tok)
	}
	return creds, cookies
}

// bearerToken returns the token of an "Authorization: Bearer" header (the
// scheme is case-insensitive), or "".
func bearerToken(req *http.Request) string {
	auth := req.Header.Get("Authorization")
	if len(auth) < 7 || !strings.EqualFold(auth[:7], "bearer ") {
		return ""
	}
	return strings.TrimSpace(auth[7:])
}
