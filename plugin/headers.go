package plugin

import (
	"net/http"
	"strings"
)

// maxCredentials bounds how many same-named session cookies are tried.
const maxCredentials = 4

// maxSeparators bounds the "-" and "_" in an identity header name: a name
// with n of them has 2^n spellings, each removed from every request.
const maxSeparators = 6

// identityHeaders is the set of identity header names, precomputed in New.
// A client must never be able to send one of them, under any spelling.
type identityHeaders struct {
	// names are the canonical names, in configuration order.
	names []string
	// spellings are every form in which a client's request can carry one
	// of names (see spellings); the hit path deletes each of them.
	spellings []string
	// allowed maps a canonical name to true, for filtering "hdr" claims and
	// forwardauth's answers.
	allowed map[string]bool
}

func newIdentityHeaders(canonical []string) *identityHeaders {
	h := &identityHeaders{names: canonical, allowed: make(map[string]bool, len(canonical))}
	seen := make(map[string]bool)
	for _, name := range canonical {
		h.allowed[name] = true
		for _, s := range spellings(name) {
			if !seen[s] {
				seen[s] = true
				h.spellings = append(h.spellings, s)
			}
		}
	}
	return h
}

// spellings returns every header name under which a client's request can
// carry name: name in any case, with "_" or "-" at each separator. Go's
// HTTP/1, HTTP/2 and HTTP/3 servers reject header names that are not
// tokens and store every other name in canonical form
// (textproto.CanonicalMIMEHeaderKey), so "x_FORWARDED-user" reaches a
// middleware as "X_forwarded-User": case needs no variants, separators do.
// A name with n separators has 2^n spellings; New rejects n > maxSeparators.
func spellings(name string) []string {
	b := []byte(normalizeHeader(name))
	var seps []int
	for i, c := range b {
		if c == '-' {
			seps = append(seps, i)
		}
	}
	out := make([]string, 0, 1<<len(seps))
	for mask := 0; mask < 1<<len(seps); mask++ {
		for j, i := range seps {
			b[i] = '-'
			if mask&(1<<j) != 0 {
				b[i] = '_'
			}
		}
		out = append(out, http.CanonicalHeaderKey(string(b)))
	}
	return out
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
