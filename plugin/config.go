// Package plugin is plexgate's Traefik v3 middleware plugin.
//
// Traefik interprets it with Yaegi. For every request it removes identity
// headers sent by the client, then looks the session credential (the
// plexgate session cookie or an "Authorization: Bearer" token) up in a
// bounded in-memory cache. On a miss it verifies the session token locally
// when it has a key (EdDSA public keys, inline or from forwardauth's JWKS, or
// an HS256 secret), and otherwise asks forwardauth's /validate endpoint the
// way Traefik's forwardAuth middleware would. Allowed requests reach the next
// handler with the identity headers set; everything else gets forwardauth's
// answer (a redirect to the login page, 401 or 403) or 503 when forwardauth
// cannot be reached.
//
// The package uses the Go standard library only, and nothing newer than the
// Go 1.22 standard library, so that Yaegi can run it.
package plugin

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is the plugin configuration. Traefik fills it from the dynamic
// configuration by field name (case-insensitive, weakly typed): durations are
// strings such as "5m" (a bare integer means seconds) and a comma-separated
// string fills a list.
type Config struct {
	// ValidateURL is forwardauth's validate endpoint, e.g.
	// "http://forwardauth:4181/validate". Required, no default.
	ValidateURL string `json:"validateURL,omitempty"`

	// CookieName is the session cookie's name. Default "plexgate_session".
	CookieName string `json:"cookieName,omitempty"`

	// JWKSURL is forwardauth's key set, e.g.
	// "http://forwardauth:4181/.well-known/jwks.json". It is fetched lazily
	// on the request path, never in New: when a token names an unknown key
	// id, and when the fetched copy is older than JWKSMaxAge; at most once
	// per JWKSMinRefreshInterval, one fetch at a time. Default "" (no
	// fetching).
	JWKSURL string `json:"jwksURL,omitempty"`

	// PublicKeys holds inline Ed25519 verification keys: one or more PEM
	// "PUBLIC KEY" blocks, or one JWK or JWK Set as JSON. A key's id is its
	// RFC 7638 thumbprint (plus the JWK's own "kid" when it has one).
	// Default "" (none).
	PublicKeys string `json:"publicKeys,omitempty"`

	// HMACSecret is the HS256 secret shared with forwardauth, at least 32
	// bytes. Prefer HMACSecretFile, which keeps the secret out of the
	// dynamic configuration. An HS256 token's "kid" is not used: there is
	// one secret. Default "" (HS256 disabled).
	HMACSecret string `json:"hmacSecret,omitempty"`

	// HMACSecretFile is a file holding the HS256 secret; one trailing
	// newline is removed. It is read once in New. Mutually exclusive with
	// HMACSecret. Default "".
	HMACSecretFile string `json:"hmacSecretFile,omitempty"`

	// Issuer is the "iss" a locally verified token must carry, i.e.
	// forwardauth's public URL. Default "" (not checked; set it when the
	// keys are shared with other issuers).
	Issuer string `json:"issuer,omitempty"`

	// Audience is the "aud" a locally verified token must carry. Default
	// "plexgate"; must not be empty.
	Audience string `json:"audience,omitempty"`

	// Leeway is the clock skew allowed when checking "exp", "nbf" and "iat"
	// (docs/contract.md, "Valid session token"); set it like forwardauth's
	// session.leeway.
	// Default "30s", at most "5m".
	Leeway string `json:"leeway,omitempty"`

	// CacheTTL is how long an allowed credential stays cached; an entry
	// never outlives the token's "exp", nor a locally verified token's
	// refresh point ("rat", docs/contract.md), nor the JWKS copy whose key
	// verified it (JWKSMaxAge). "0" disables the cache. Default "5m".
	CacheTTL string `json:"cacheTTL,omitempty"`

	// CacheMaxEntries bounds the cache. Default 10000, at least 1.
	CacheMaxEntries int `json:"cacheMaxEntries,omitempty"`

	// AuthResponseHeaders are the identity headers: they are removed from
	// every client request (in any case, with "_" or "-"), then set from
	// the token's "hdr" claim or forwardauth's 2xx answer. A name may have
	// at most 6 separators ("-" or "_"). Default X-Forwarded-User,
	// X-Forwarded-Email, X-Forwarded-Groups.
	AuthResponseHeaders []string `json:"authResponseHeaders,omitempty"`

	// AuthRequestHeaders are client request headers passed on to
	// ValidateURL besides Cookie and Authorization. Default Accept,
	// X-Requested-With (forwardauth uses them to choose 302 or 401).
	AuthRequestHeaders []string `json:"authRequestHeaders,omitempty"`

	// Timeout bounds each call to ValidateURL and JWKSURL. Default "5s".
	Timeout string `json:"timeout,omitempty"`

	// JWKSMinRefreshInterval is the least time between two fetches of
	// JWKSURL. Default "1m", at least "1s".
	JWKSMinRefreshInterval string `json:"jwksMinRefreshInterval,omitempty"`

	// JWKSMaxAge is how long a fetched copy of JWKSURL is trusted: the
	// next token checked with a fetched key after that re-reads the key set,
	// and keys no longer published stop verifying, together with the cache
	// entries they verified. A failed fetch keeps the old keys. A key
	// removed from forwardauth is refused within JWKSMaxAge +
	// JWKSMinRefreshInterval. Inline PublicKeys are never dropped.
	// Default "5m", at least JWKSMinRefreshInterval.
	JWKSMaxAge string `json:"jwksMaxAge,omitempty"`

	// PlexTokenPaths are the Plex paths that hand out tokens (Plex's
	// /myplex/ and /security/token; CVE-2025-69414 turned a transient token
	// into the owner's permanent one there). A request there that a Plex
	// token decides is always asked of forwardauth (which allows only the
	// owner's token there) and its answer never cached. A path matches
	// wherever it appears in the request path, in any case. Keep the list
	// equal to forwardauth's plex.token_paths. Default "/myplex/",
	// "/security/token".
	PlexTokenPaths []string `json:"plexTokenPaths,omitempty"`

	// LogLevel is the least level logged to stderr: "debug" (also every
	// denial and failed local verification), "info", "warn" or "error".
	// Default "info".
	LogLevel string `json:"logLevel,omitempty"`
}

// CreateConfig returns the default configuration.
func CreateConfig() *Config {
	return &Config{
		CookieName:             "plexgate_session",
		Audience:               "plexgate",
		Leeway:                 "30s",
		CacheTTL:               "5m",
		CacheMaxEntries:        10000,
		AuthResponseHeaders:    []string{"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups"},
		AuthRequestHeaders:     []string{"Accept", "X-Requested-With"},
		Timeout:                "5s",
		JWKSMinRefreshInterval: "1m",
		JWKSMaxAge:             "5m",
		PlexTokenPaths:         []string{"/myplex/", "/security/token"},
		LogLevel:               "info",
	}
}

// minHMACSecretBytes is the shortest accepted HS256 secret (RFC 7518 §3.2).
const minHMACSecretBytes = 32

// settings is a Config validated and parsed once, in New.
type settings struct {
	validateURL     string
	cookieName      string
	jwksURL         string
	keys            map[string][]byte // Ed25519 public keys by key id
	hmacSecret      []byte
	issuer          string
	audience        string
	leeway          time.Duration
	cacheTTL        time.Duration
	cacheMax        int
	responseHeaders []string // canonical names
	requestHeaders  []string // canonical names
	timeout         time.Duration
	jwksInterval    time.Duration
	jwksMaxAge      time.Duration
	logLevel        slog.Level
	tokenPaths      *regexp.Regexp // nil: none
}

// parse validates c and reports every problem at once. It reads
// HMACSecretFile but makes no network call.
func (c *Config) parse() (*settings, error) {
	p := &problems{}
	s := &settings{
		validateURL:  p.httpURL("ValidateURL", c.ValidateURL, true),
		cookieName:   p.cookieName(c.CookieName),
		jwksURL:      p.httpURL("JWKSURL", c.JWKSURL, false),
		issuer:       c.Issuer,
		audience:     c.Audience,
		leeway:       p.duration("Leeway", c.Leeway, 0, 5*time.Minute),
		cacheTTL:     p.duration("CacheTTL", c.CacheTTL, 0, 0),
		cacheMax:     c.CacheMaxEntries,
		timeout:      p.duration("Timeout", c.Timeout, time.Millisecond, 0),
		jwksInterval: p.duration("JWKSMinRefreshInterval", c.JWKSMinRefreshInterval, time.Second, 0),
		jwksMaxAge:   p.duration("JWKSMaxAge", c.JWKSMaxAge, time.Second, 0),
		logLevel:     p.logLevel(c.LogLevel),
		tokenPaths:   p.tokenPaths(c.PlexTokenPaths),
	}
	s.responseHeaders = p.headerNames("AuthResponseHeaders", c.AuthResponseHeaders)
	for _, name := range s.responseHeaders {
		if n := strings.Count(name, "-") + strings.Count(name, "_"); n > maxSeparators {
			p.add(fmt.Sprintf("AuthResponseHeaders: %s has %d separators (\"-\" or \"_\"), at most %d: each of its 2^%d spellings would be looked up on every request", name, n, maxSeparators, n))
		}
	}
	s.requestHeaders = p.headerNames("AuthRequestHeaders", c.AuthRequestHeaders)
	for _, name := range s.requestHeaders {
		if strings.HasPrefix(name, "X-Forwarded-") || name == "Forwarded" || name == "X-Real-Ip" || name == "Host" {
			p.add(fmt.Sprintf("AuthRequestHeaders: %s is built from the request itself and cannot be passed on", name))
		}
	}
	if s.jwksMaxAge < s.jwksInterval {
		p.add(fmt.Sprintf("JWKSMaxAge (%s) must be at least JWKSMinRefreshInterval (%s)", s.jwksMaxAge, s.jwksInterval))
	}
	if c.Audience == "" {
		p.add("Audience must not be empty")
	}
	if c.CacheMaxEntries < 1 {
		p.add(fmt.Sprintf("CacheMaxEntries must be at least 1, got %d", c.CacheMaxEntries))
	}
	keys, err := parsePublicKeys(c.PublicKeys)
	if err != nil {
		p.add(fmt.Sprintf("PublicKeys: %v", err))
	}
	s.keys = keys
	s.hmacSecret = p.hmacSecret(c.HMACSecret, c.HMACSecretFile)
	if err := p.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// problems collects configuration errors.
type problems struct {
	list []string
}

func (p *problems) add(msg string) {
	p.list = append(p.list, msg)
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return errors.New("plexgate: invalid configuration: " + strings.Join(p.list, "; "))
}

func (p *problems) httpURL(key, raw string, required bool) string {
	if raw == "" {
		if required {
			p.add(key + " is required")
		}
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		p.add(fmt.Sprintf("%s must be an absolute http(s) URL without credentials, got %q", key, raw))
		return ""
	}
	return u.String()
}

func (p *problems) cookieName(name string) string {
	if name == "" || !isToken(name) {
		p.add(fmt.Sprintf("CookieName must be a non-empty cookie name, got %q", name))
	}
	return name
}

// duration parses a Go duration or a bare number of seconds, within
// [least, most] (most 0: no upper bound).
func (p *problems) duration(key, raw string, least, most time.Duration) time.Duration {
	raw = strings.TrimSpace(raw)
	d, err := time.ParseDuration(raw)
	if n, nerr := strconv.ParseInt(raw, 10, 64); nerr == nil && n >= 0 && n < 1<<31 {
		// Two statements: Yaegi panics on "d, err = x, nil".
		d = time.Duration(n) * time.Second
		err = nil
	}
	switch {
	case err != nil:
		p.add(fmt.Sprintf("%s must be a duration such as \"30s\" or \"5m\", got %q", key, raw))
	case d < least:
		p.add(fmt.Sprintf("%s must be at least %s, got %q", key, least, raw))
	case most > 0 && d > most:
		p.add(fmt.Sprintf("%s must be at most %s, got %q", key, most, raw))
	}
	return d
}

// tokenPaths compiles PlexTokenPaths into one case-insensitive regexp
// that finds any of them anywhere in a path ("/myplex/" as "/myplex" then
// "/" or the end), so that "/a/../MyPlex/account" and "//myplex" match.
func (p *problems) tokenPaths(paths []string) *regexp.Regexp {
	var alts []string
	for _, raw := range paths {
		tp := strings.TrimSpace(raw)
		if tp == "" {
			continue
		}
		if !strings.HasPrefix(tp, "/") || strings.ContainsAny(tp, " ?#%") || strings.Trim(tp, "/") == "" {
			p.add(fmt.Sprintf("PlexTokenPaths: %q must be a path below / without query, escapes or spaces", raw))
			continue
		}
		alts = append(alts, regexp.QuoteMeta(strings.TrimRight(tp, "/"))+"(/|$)")
	}
	if len(alts) == 0 {
		return nil
	}
	return regexp.MustCompile("(?i)" + strings.Join(alts, "|"))
}

func (p *problems) logLevel(raw string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "debug":
		return slog.LevelDebug
	case "", "info":
		return slog.LevelInfo
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	p.add(fmt.Sprintf("LogLevel must be debug, info, warn or error, got %q", raw))
	return slog.LevelInfo
}

// headerNames trims, checks and canonicalizes a list of header names and
// drops duplicates.
func (p *problems) headerNames(key string, names []string) []string {
	out := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !isToken(n) {
			p.add(fmt.Sprintf("%s: %q is not a valid header name", key, n))
			continue
		}
		c := http.CanonicalHeaderKey(n)
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

func (p *problems) hmacSecret(inline, file string) []byte {
	secret := inline
	if file != "" {
		if inline != "" {
			p.add("set HMACSecret or HMACSecretFile, not both")
			return nil
		}
		b, err := os.ReadFile(file)
		if err != nil {
			p.add(fmt.Sprintf("HMACSecretFile: %v", err))
			return nil
		}
		secret = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	}
	if secret == "" {
		return nil
	}
	if len(secret) < minHMACSecretBytes {
		// Never print the secret itself.
		p.add(fmt.Sprintf("the HS256 secret must be at least %d bytes, got %d", minHMACSecretBytes, len(secret)))
		return nil
	}
	return []byte(secret)
}

// isToken reports whether s is an RFC 9110 token (header and cookie names).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}
