package plugin

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Middleware is the plexgate middleware: one per Traefik middleware
// definition, rebuilt by Traefik on every configuration reload.
type Middleware struct {
	next       http.Handler
	cookieName string
	identity   *identityHeaders
	// plexNames are the spellings of X-Plex-Token a request can carry, the
	// canonical one first; plexOthers the rest of them.
	plexNames  []string
	plexOthers []string
	// tokenPaths finds PlexTokenPaths in a request path; nil: none.
	tokenPaths *regexp.Regexp
	cache      *cache
	verifier   *verifier // nil: no local key, always delegate
	keys       *keySet   // the verifier's Ed25519 keys; nil: none
	delegator  *delegator
	outage     *outage
	now        func() time.Time
	log        *slog.Logger
}

var _ http.Handler = (*Middleware)(nil)

// options carries what New does not take from Config. A nil field means
// the default: time.Now, a logger writing to stderr.
type options struct {
	now func() time.Time
	log *slog.Logger
}

// New builds the middleware named name in front of next. It validates and
// parses config, reading HMACSecretFile if set; it makes no network call
// and starts no goroutine. config is not modified.
func New(ctx context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	m, err := newMiddleware(next, config, name, options{})
	if err != nil {
		return nil, err // a nil interface, not a nil *Middleware
	}
	return m, nil
}

func newMiddleware(next http.Handler, config *Config, name string, opts options) (*Middleware, error) {
	if config == nil {
		config = CreateConfig()
	}
	s, err := config.parse()
	if err != nil {
		return nil, err
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	if opts.log == nil {
		opts.log = newLogger(os.Stderr, name, s.logLevel)
	}
	client := newClient(s.timeout)
	m := &Middleware{
		next:       next,
		cookieName: s.cookieName,
		identity:   newIdentityHeaders(s.responseHeaders),
		plexNames:  spellings(plexTokenName),
		tokenPaths: s.tokenPaths,
		cache:      newCache(s.cacheMax, s.cacheTTL),
		delegator:  &delegator{url: s.validateURL, client: client, requestHeaders: s.requestHeaders},
		outage:     &outage{},
		now:        opts.now,
		log:        opts.log,
	}
	m.plexOthers = m.plexNames[1:]
	if s.keys != nil || s.jwksURL != "" {
		c := m.cache
		m.keys = &keySet{
			inline:   s.keys,
			url:      s.jwksURL,
			interval: s.jwksInterval,
			maxAge:   s.jwksMaxAge,
			client:   client,
			now:      opts.now,
			log:      opts.log,
			// Entries verified with a dropped key go with it.
			dropped: func(kids map[string]bool) { cacheDropKeys(c, kids) },
		}
	}
	m.verifier = newVerifier(s, m.keys)
	return m, nil
}

// newVerifier returns the local verifier over keys (nil: no Ed25519 key),
// or nil when no key is configured at all.
func newVerifier(s *settings, keys *keySet) *verifier {
	if keys == nil && s.hmacSecret == nil {
		return nil
	}
	v := &verifier{hmacKey: s.hmacSecret, issuer: s.issuer, audience: s.audience, leeway: s.leeway}
	if s.hmacSecret != nil {
		v.hmacKID = hmacKeyID(s.hmacSecret)
	}
	if keys != nil {
		v.edKeys = keys
	}
	return v
}

// ServeHTTP removes client-sent identity headers, then lets the request
// through on a cache hit, after local verification, or after forwardauth
// allowed it; otherwise it answers with forwardauth's denial or 503.
//
// The hit path is written out here rather than split into helpers, and
// with as few expressions as possible, on purpose: on every call Yaegi
// v0.16.1 allocates one value per expression and variable in the function,
// and a call to an interpreted function or method costs a new frame on top.
// Only standard-library calls, which run compiled, remain. Removing
// client-sent identity headers is a lookup of each precomputed spelling
// (identityHeaders.spellings), whatever the number of request headers.
func (m *Middleware) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	header := req.Header
	for _, name := range m.identity.spellings {
		if _, ok := header[name]; ok {
			delete(header, name)
		}
	}
	// Hit: this exact Cookie header was seen before with a valid session
	// in it (cacheAlias), so one map lookup decides, with no cookie
	// parsing. Any other request takes serveMiss, which parses every
	// credential and checks each against the cache too.
	if lines := header["Cookie"]; len(lines) == 1 {
		c := m.cache
		c.mu.RLock()
		id := c.entries[lines[0]]
		c.mu.RUnlock()
		if id != nil && m.now().UnixNano() < id.expires {
			for _, h := range id.headers {
				header[h.name] = h.values
			}
			m.next.ServeHTTP(rw, req)
			return
		}
	}
	serveNoLineHit(m, rw, req)
}

// The request path past the hit is written as plain functions rather than
// methods: under Yaegi v0.16.1 an interpreted method call allocates several
// times what a function call does (BenchmarkInterpretedHit and
// BenchmarkInterpretedLocalVerifyMissHS256 in e2e/interp; bench/README.md).

// serveMiss tries every credential the request carries against the cache,
// then verifies them locally, then delegates. A token that verifies but is
// past its refresh point is delegated too, and kept as the fallback in case
// forwardauth cannot answer.
func serveMiss(m *Middleware, rw http.ResponseWriter, req *http.Request) {
	creds, cookies := credentials(req, m.cookieName)
	now := m.now().UnixNano()
	if len(creds) == 0 {
		servePlex(m, rw, req, now) // a session, when there is one, decides
		return
	}
	for i, tok := range creds {
		if id := cacheGet(m.cache, tok, now); id != nil {
			allowCached(m, rw, req, id, i < cookies, now)
			return
		}
	}
	var fb *fallback
	if m.verifier != nil {
		for i, tok := range creds {
			id, until, due := verifyLocal(req.Context(), m, tok, now)
			if id != nil && !due {
				allowCached(m, rw, req, id, i < cookies, now)
				return
			}
			if id != nil && fb == nil {
				fb = &fallback{token: tok, id: id, until: until, fromCookie: i < cookies}
			}
		}
	}
	delegate(m, rw, req, creds, cookies, now, fb)
}

// allow sets the identity headers and calls the next handler.
func allow(m *Middleware, rw http.ResponseWriter, req *http.Request, id *identity) {
	header := req.Header
	for _, h := range id.headers {
		header[h.name] = h.values
	}
	m.next.ServeHTTP(rw, req)
}

// allowCached lets the request through with id, which is cached for one of
// its credentials. When that credential came from a cookie, the request's
// Cookie header is filed as an alias, so that the same header is a hit next
// time. A Bearer token's answer never is: the cookies alone did not earn it.
func allowCached(m *Middleware, rw http.ResponseWriter, req *http.Request, id *identity, fromCookie bool, now int64) {
	if lines := req.Header["Cookie"]; fromCookie && len(lines) == 1 {
		cacheAlias(m.cache, lines[0], id, now)
	}
	allow(m, rw, req, id)
}

// verifyLocal verifies tok at now (Unix nanoseconds) and returns the
// identity from its "hdr" claim, or nil when the token does not verify or
// carries no "hdr" claim; the request is then delegated. Before the token's
// refresh point the identity is cached until min(exp, refresh point, the
// key's trust, now + CacheTTL). From the refresh point on it is not cached
// and due is true: the request is delegated, and until (exp, bounded by the
// key's trust) is how long it may be honoured if forwardauth cannot answer.
func verifyLocal(ctx context.Context, m *Middleware, tok string, now int64) (id *identity, until int64, due bool) {
	claims, err := verify(ctx, m.verifier, tok, now)
	if err != nil {
		m.log.Debug("local verification failed, delegating", "reason", err.Error())
		return nil, 0, false
	}
	hdr, ok := claims["hdr"].(map[string]any)
	if !ok {
		m.log.Debug("verified token has no hdr claim, delegating")
		return nil, 0, false
	}
	id = identityFromClaim(m.identity.names, hdr)
	bound, kid := keyBound(m, tok)
	id.kid = kid
	until = earlier(expiryNanos(claims), bound)
	if rat, has := refreshNanos(claims); has {
		if now >= rat {
			m.log.Debug("token past its refresh point, delegating")
			return id, until, true
		}
		until = earlier(until, rat)
	}
	cachePut(m.cache, tok, id, until, now)
	return id, until, false
}

// identityFromClaim takes the configured identity headers from a token's
// "hdr" claim, whose names are canonical (docs/contract.md); other names,
// non-string values and values that are not valid in a header (CR, LF,
// NUL) are ignored.
func identityFromClaim(names []string, hdr map[string]any) *identity {
	id := &identity{}
	for _, name := range names {
		if v, ok := hdr[name].(string); ok && !strings.ContainsAny(v, "\r\n\x00") {
			id.headers = append(id.headers, headerValue{name: name, values: []string{v}})
		}
	}
	return id
}

// delegate asks forwardauth and acts on its answer. fb, when not nil, is a
// locally verified token past its refresh point, honoured when forwardauth
// is unreachable or answers 5xx.
func delegate(m *Middleware, rw http.ResponseWriter, req *http.Request, creds []string, cookies int, now int64, fb *fallback) {
	resp, err := m.delegator.ask(req)
	if err != nil {
		companionFailed(m, rw, req, fb, now, err.Error())
		return
	}
	if resp.StatusCode < 200 || resp.StatusCode > 599 {
		// Not an answer a client can be given (WriteHeader would panic
		// on some): treat it as forwardauth failing.
		drain(resp.Body)
		companionFailed(m, rw, req, fb, now, "invalid status "+strconv.Itoa(resp.StatusCode))
		return
	}
	if resp.StatusCode > 499 && fb != nil {
		drain(resp.Body)
		companionFailed(m, rw, req, fb, now, "status "+strconv.Itoa(resp.StatusCode))
		return
	}
	companionAnswered(m)
	if resp.StatusCode > 299 {
		m.log.Debug("forwardauth denied the request", "status", resp.StatusCode)
		relay(rw, resp)
		drain(resp.Body)
		return
	}
	// Release the connection before the upstream, which may stream for hours.
	drain(resp.Body)
	id := identityFrom(m.identity.names, resp.Header)
	for _, c := range resp.Header.Values("Set-Cookie") {
		rw.Header().Add("Set-Cookie", c)
	}
	// Which of several credentials forwardauth accepted is unknown, so
	// only a lone credential's answer is cached.
	if len(creds) != 1 {
		allow(m, rw, req, id)
		return
	}
	cachePut(m.cache, creds[0], id, delegatedUntil(creds[0], now), now)
	allowCached(m, rw, req, id, cookies == 1, now)
}

// unavailable answers 503 with a short plain-text message.
func unavailable(rw http.ResponseWriter) {
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("X-Content-Type-Options", "nosniff")
	rw.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(rw, "authentication service unavailable\n")
}

// newLogger returns a logger writing one text line per event to w, each
// line prefixed with the middleware name.
func newLogger(w io.Writer, name string, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(&prefixWriter{prefix: []byte(name + ": "), w: w}, &slog.HandlerOptions{Level: level}))
}

// prefixWriter prefixes every write (slog writes one line per call).
type prefixWriter struct {
	prefix []byte
	w      io.Writer
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	line := make([]byte, 0, len(p.prefix)+len(b))
	line = append(append(line, p.prefix...), b...)
	if _, err := p.w.Write(line); err != nil {
		return 0, err
	}
	return len(b), nil
}
