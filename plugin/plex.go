package plugin

import (
	"crypto/sha256"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// A request without a session credential is decided by its Plex token (see
// plexToken): a cached verdict is a hit, anything else is delegated with
// the token in X-Plex-Token, and forwardauth's 2xx is cached for as long as
// its Cache-Control allows, never longer than CacheTTL. A CORS preflight
// without a token is delegated too, and never cached. The token itself is
// left in place for Plex, and never logged.

// plexKey is the cache key of a Plex token: its SHA-256 hash, so that the
// cache does not hold the long-lived token itself (the token is a random
// bearer secret: a plain hash is enough). The first byte is set to NUL,
// which Go's HTTP servers refuse in header values, so that no Cookie header
// line and no session token can ever equal such a key.
func plexKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	sum[0] = 0
	return string(sum[:])
}

// serveNoLineHit serves a request whose Cookie line was not a hit: a cached
// Plex token is a hit, anything else is serveMiss. The token of a request
// without a query is read here (the one X-Plex-Token header, when there is
// no other spelling and no Cookie or Authorization header that may carry a
// session), any other by quickQueryToken, which returns "" when plexToken
// must read the request. Written out, like ServeHTTP's hit path: Yaegi's
// cost of a call grows with the callee's size.
func serveNoLineHit(m *Middleware, rw http.ResponseWriter, req *http.Request) {
	header := req.Header
	tok := ""
	if req.URL.RawQuery != "" {
		tok = quickQueryToken(header, req.URL.RawQuery, m.plexOthers)
	} else if lines := header[plexTokenName]; len(lines) == 1 && header["Cookie"] == nil && header["Authorization"] == nil &&
		header[m.plexOthers[0]] == nil && header[m.plexOthers[1]] == nil && header[m.plexOthers[2]] == nil {
		tok = lines[0]
	}
	if tok != "" && (m.tokenPaths == nil || !m.tokenPaths.MatchString(req.URL.Path)) {
		sum := sha256.Sum256([]byte(tok))
		sum[0] = 0
		c := m.cache
		c.mu.RLock()
		id := c.entries[string(sum[:])]
		c.mu.RUnlock()
		if id != nil && m.now().UnixNano() < id.expires {
			for _, h := range id.headers {
				header[h.name] = h.values
			}
			m.next.ServeHTTP(rw, req)
			return
		}
	}
	serveMiss(m, rw, req)
}

// servePlex decides a request that carries no session credential: by its
// Plex token, as a CORS preflight, or else as an anonymous request (which
// forwardauth redirects to the login or refuses).
func servePlex(m *Middleware, rw http.ResponseWriter, req *http.Request, now int64) {
	tok, ok := plexToken(req, m.plexNames)
	if !ok {
		m.log.Debug("conflicting Plex tokens, answering 401")
		conflictingTokens(rw)
		return
	}
	if tok == "" {
		if isPreflight(req) {
			delegatePreflight(m, rw, req)
			return
		}
		delegate(m, rw, req, nil, 0, now, nil)
		return
	}
	// On a token path the verdict is forwardauth's for this request alone.
	tokenPath := m.tokenPaths != nil && m.tokenPaths.MatchString(req.URL.Path)
	key := plexKey(tok)
	if id := cacheGet(m.cache, key, now); id != nil && !tokenPath {
		allow(m, rw, req, id)
		return
	}
	resp, ok := askForwardauth(m, rw, req, tok, false)
	if !ok {
		return
	}
	id := identityFrom(m.identity.names, resp.Header)
	if age := maxAge(resp.Header.Values("Cache-Control")); age > 0 && !tokenPath {
		cachePut(m.cache, key, id, now+age, now)
	}
	allow(m, rw, req, id)
}

// delegatePreflight asks forwardauth about a CORS preflight, which carries
// no credential by design. On a 2xx the preflight reaches Plex (which
// answers it) without identity headers; the answer is not cached.
func delegatePreflight(m *Middleware, rw http.ResponseWriter, req *http.Request) {
	if _, ok := askForwardauth(m, rw, req, "", true); ok {
		m.next.ServeHTTP(rw, req)
	}
}

// askForwardauth delegates req and returns forwardauth's 2xx answer (body
// drained). Any other answer has been written to rw (relayed, or 503), and
// ok is false.
func askForwardauth(m *Middleware, rw http.ResponseWriter, req *http.Request, plexTok string, preflight bool) (*http.Response, bool) {
	resp, err := m.delegator.askWith(req, plexTok, preflight)
	if err != nil {
		m.log.Warn("forwardauth unreachable, answering 503", "error", err.Error())
		unavailable(rw)
		return nil, false
	}
	drainAfter := resp.Body
	defer drain(drainAfter)
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 599:
		m.log.Warn("forwardauth answered an invalid status, answering 503", "status", resp.StatusCode)
		unavailable(rw)
		return nil, false
	case resp.StatusCode > 299:
		m.log.Debug("forwardauth denied the request", "status", resp.StatusCode, "plex_token", plexTok != "", "preflight", preflight)
		relay(rw, resp)
		return nil, false
	}
	return resp, true
}

// isPreflight reports whether req is a CORS preflight: OPTIONS with Origin
// and Access-Control-Request-Method.
func isPreflight(req *http.Request) bool {
	return req.Method == http.MethodOptions && req.Header.Get("Origin") != "" &&
		req.Header.Get("Access-Control-Request-Method") != ""
}

// maxAge returns how long, in nanoseconds, a Cache-Control answer may be
// kept: its max-age, or 0 (not at all) when there is none, when it is not a
// valid number, or with no-store or no-cache.
func maxAge(lines []string) int64 {
	age := int64(0)
	for _, line := range lines {
		for _, d := range strings.Split(line, ",") {
			d = strings.ToLower(strings.TrimSpace(d))
			switch {
			case d == "no-store" || d == "no-cache":
				return 0
			case strings.HasPrefix(d, "max-age="):
				n, err := strconv.ParseInt(strings.Trim(d[len("max-age="):], `"`), 10, 64)
				if err != nil || n < 0 || n > 1<<31 {
					return 0
				}
				age = n * 1e9
			}
		}
	}
	return age
}

// conflictingTokens answers 401 to a request whose Plex tokens disagree.
func conflictingTokens(rw http.ResponseWriter) {
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("X-Content-Type-Options", "nosniff")
	rw.WriteHeader(http.StatusUnauthorized)
	_, _ = io.WriteString(rw, "conflicting Plex tokens\n")
}
