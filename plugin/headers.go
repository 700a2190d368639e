package plugin

import (
	"net/http"
	"net/url"
	"regexp"
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

// plexTokenName is the header and query parameter in which Plex clients
// send their Plex token.
const plexTokenName = "X-Plex-Token"

// maxPlexNesting bounds how many levels of query values holding URLs (the
// "url" of /photo/:/transcode, itself a URL with a query) plexToken looks
// into. A value nested deeper that mentions a token refuses the request.
const maxPlexNesting = 3

// plexFind collects the Plex tokens of one request.
type plexFind struct {
	token    string
	found    bool
	conflict bool
}

// plexAdd records one occurrence; an occurrence unlike the first (an empty
// one included) is a conflict.
func plexAdd(p *plexFind, v string) {
	if !p.found {
		p.token, p.found = v, true
		return
	}
	if v != p.token {
		p.conflict = true
	}
}

// plexToken returns the Plex token of req: every X-Plex-Token header under
// any of names (its spellings, see spellings), every X-Plex-Token query
// parameter (name in any case, "_" or "-"), and every one inside a query
// value that holds a URL or a query, up to maxPlexNesting levels deep. ok is
// false when the occurrences are not all the same token, or when one cannot
// be read for sure (a query Go cannot parse, or nested too deep, that
// mentions a token): Plex might read a token the gate did not check. A
// request without a token, or with only empty ones, gives "", true.
func plexToken(req *http.Request, names []string) (token string, ok bool) {
	p := &plexFind{}
	for _, name := range names {
		for _, v := range req.Header[name] {
			plexAdd(p, v)
		}
	}
	plexScanQuery(p, req.URL.RawQuery, 0)
	if p.conflict {
		return "", false
	}
	return p.token, true
}

// plexScanQuery adds the tokens of a raw query string to p.
func plexScanQuery(p *plexFind, raw string, depth int) {
	if raw == "" || !strings.ContainsAny(raw, "=%") {
		return
	}
	values, err := url.ParseQuery(raw)
	if err != nil && mayHideToken(raw) {
		p.conflict = true // Go skipped a part that Plex may read
		return
	}
	for key, vs := range values {
		isToken := normalizeHeader(key) == "x-plex-token"
		for _, v := range vs {
			if isToken {
				plexAdd(p, v)
			} else if strings.ContainsAny(v, "=%") {
				plexScanNested(p, v, depth)
			}
		}
	}
}

// plexScanNested looks for tokens in a query value that may be a URL with
// a query, or a query itself.
func plexScanNested(p *plexFind, v string, depth int) {
	if depth+1 >= maxPlexNesting {
		if mayHideToken(v) {
			p.conflict = true
		}
		return
	}
	if i := strings.IndexByte(v, '#'); i >= 0 {
		if mayHideToken(v[i:]) {
			p.conflict = true // Plex may not treat it as a fragment
			return
		}
		v = v[:i]
	}
	if i := strings.IndexByte(v, '?'); i >= 0 {
		v = v[i+1:]
	}
	plexScanQuery(p, v, depth+1)
}

// mayHideToken reports whether s may hold a token parameter: it contains
// "token" in any case, or a percent sign (which can encode any letter of it).
func mayHideToken(s string) bool {
	return strings.IndexByte(s, '%') >= 0 || strings.Contains(strings.ToLower(s), "token")
}

// quickQuery matches a query whose every escape decodes to a byte in
// 0x20-0x3F other than "%" (no letter, no second level of encoding), with
// no ";" or "#": decoding it once changes no letter and leaves no "%", so
// every letter of every nested level is in the raw query as it is.
var quickQuery = regexp.MustCompile(`^(?:[^;#%]|%(?:2[0-46-9A-Fa-f]|3[0-9A-Fa-f]))*$`)

// quickQueryToken is the Plex-token hit path's reading of a request with
// a query: the one X-Plex-Token query parameter, written plainly, of a
// request with no X-Plex-Token header under any spelling and no Cookie or
// Authorization header (a session decides first). It returns "" whenever
// the request needs plexToken's full reading: a query quickQuery does not
// match, a token value with "%" or "+", "token" (any case) more than once.
// A token it returns is the one plexToken returns (FuzzPlexToken holds them
// together): by quickQuery, "token" appears once in every decoding of the
// query, as the parameter read here.
func quickQueryToken(header http.Header, rawQuery string, others []string) string {
	i := strings.Index(rawQuery, plexTokenName+"=")
	if i < 0 || i > 0 && rawQuery[i-1] != '&' || header[plexTokenName] != nil || header["Cookie"] != nil ||
		header["Authorization"] != nil || header[others[0]] != nil || header[others[1]] != nil || header[others[2]] != nil ||
		!quickQuery.MatchString(rawQuery) {
		return ""
	}
	v := rawQuery[i+len(plexTokenName)+1:]
	if j := strings.IndexByte(v, '&'); j >= 0 {
		v = v[:j]
	}
	if v == "" || strings.ContainsAny(v, "%+") || strings.Count(strings.ToLower(rawQuery), "token") != 1 {
		return ""
	}
	return v
}
