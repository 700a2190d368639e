package plex

import (
	"net/url"
	"path"
	"strings"
)

// DefaultTokenPaths are the Plex paths that hand out tokens. A request
// authenticated by a Plex token of anyone but the owner is refused there
// (CVE-2025-69414 turned a transient token into the owner's permanent one
// through them).
var DefaultTokenPaths = []string{"/myplex/", "/security/token"}

// TokenPaths matches request paths against a list of path prefixes.
type TokenPaths struct {
	prefixes []string // lower case, without trailing slash
}

// NewTokenPaths compiles a list such as DefaultTokenPaths. An entry matches
// the path itself and everything below it, wherever it starts in the
// request path ("/myplex/" and "/myplex" both match "/myplex",
// "/myplex/account" and "/x/myplex/account", never "/myplexy"), as the
// plugin's PlexTokenPaths does, case-insensitively, after the request
// path is percent-decoded and cleaned ("//myplex/./x" and "/myplex\x" are
// "/myplex/x").
func NewTokenPaths(list []string) *TokenPaths {
	t := &TokenPaths{}
	for _, p := range list {
		p = strings.ToLower(strings.TrimRight(path.Clean("/"+p), "/"))
		if p != "" {
			t.prefixes = append(t.prefixes, p)
		}
	}
	return t
}

// Match reports whether the path of requestURI (as in X-Forwarded-Uri) is
// on the list. A path that cannot be decoded matches: it is refused rather
// than guessed at.
func (t *TokenPaths) Match(requestURI string) bool {
	if len(t.prefixes) == 0 {
		return false
	}
	raw, _, _ := strings.Cut(requestURI, "?")
	raw, _, _ = strings.Cut(raw, "#")
	p, err := url.PathUnescape(raw)
	if err != nil {
		return true
	}
	// Backslashes count as slashes: a server on Windows may read them so.
	p = strings.ToLower(path.Clean("/" + strings.ReplaceAll(p, `\`, "/")))
	for _, pre := range t.prefixes {
		if strings.Contains(p+"/", pre+"/") {
			return true
		}
	}
	return false
}
