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
	// plain holds the canonical names of common headers that are not
	// identity headers under this configuration (see commonHeaders): the
	// strip loop skips them without normalizing, which is most of its cost
	// under Yaegi for the X-Forwarded-* headers Traefik sets on every request.
	plain map[string]bool
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
		plain:      make(map[string]bool, len(commonHeaders)),
	}
	for _, name := range canonical {
		h.normalized[normalizeHeader(name)] = true
		h.allowed[name] = true
		if len(name) < len(h.lengths) {
			h.lengths[len(name)] = true
		}
	}
	for _, name := range commonHeaders {
		if !h.normalized[normalizeHeader(name)] {
			h.plain[name] = true
		}
	}
	return h
}

// commonHeaders are header names that requests through Traefik to Plex
// usually carry, in canonical form. Those that are not configured identity
// headers skip normalization in the strip loop; the list only saves work,
// it never decides what is stripped.
var commonHeaders = []string{
	"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control",
	"Connection", "Content-Length", "Content-Type", "Cookie", "If-Modified-Since",
	"If-None-Match", "Origin", "Pragma", "Priority", "Referer", "Sec-Ch-Ua",
	"Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest", "Sec-Fetch-Mode",
	"Sec-Fetch-Site", "Sec-Fetch-User", "Sec-Websocket-Extensions", "Sec-Websocket-Key",
	"Sec-Websocket-Version", "Upgrade", "Upgrade-Insecure-Requests", "User-Agent",
	"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix",
	"X-Forwarded-Proto", "X-Forwarded-Server", "X-Forwarded-Tls-Client-Cert",
	"X-Forwarded-Tls-Client-Cert-Info", "X-Plex-Client-Identifier", "X-Plex-Device",
	"X-Plex-Device-Name", "X-Plex-Platform", "X-Plex-Platform-Version", "X-Plex-Product",
	"X-Plex-Token", "X-Plex-Version", "X-Real-Ip", "X-Requested-With",
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
