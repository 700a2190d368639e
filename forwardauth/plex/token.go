package plex

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// TokenParam is the header and query parameter name that carries a Plex token.
const TokenParam = "X-Plex-Token"

// MaxTokenLen bounds a token's length; longer values are malformed.
const MaxTokenLen = 4096

// maxNesting bounds how deep Extract looks into parameters that carry a URL
// of their own (url=/photo?...&url=...).
const maxNesting = 4

var (
	// ErrConflict means a request carries more than one, different, Plex token.
	ErrConflict = errors.New("plex: the request carries different Plex tokens")
	// ErrMalformed means a Plex token is empty, too long, holds characters no
	// Plex token has, or is hidden in a form Extract cannot read reliably.
	ErrMalformed = errors.New("plex: malformed Plex token")
)

// Extract returns the Plex token of a request, given its headers and its
// request URI (path and query, as in X-Forwarded-Uri). It reads every
// occurrence: every X-Plex-Token header value, every X-Plex-Token query
// parameter (name matched case-insensitively) and every one nested in another
// parameter's value (a URL with its own query, decoded once per level). It
// returns "" and nil when there is none, ErrConflict when they differ, and
// ErrMalformed when one cannot be a Plex token.
func Extract(h http.Header, requestURI string) (string, error) {
	occ := append([]string(nil), h.Values(TokenParam)...)
	requestURI, _, _ = strings.Cut(requestURI, "#")
	if _, query, ok := strings.Cut(requestURI, "?"); ok {
		if err := scanQuery(query, 0, &occ); err != nil {
			return "", err
		}
	}
	if len(occ) == 0 {
		return "", nil
	}
	for _, t := range occ {
		if !validToken(t) {
			return "", ErrMalformed
		}
	}
	for _, t := range occ[1:] {
		if t != occ[0] {
			return "", ErrConflict
		}
	}
	return occ[0], nil
}

// scanQuery appends the X-Plex-Token values of a raw query to occ and looks
// into every value that mentions the token, in case it is a URL of its own.
func scanQuery(raw string, depth int, occ *[]string) error {
	if !mentionsToken(raw) {
		return nil
	}
	if depth > maxNesting {
		return ErrMalformed
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return ErrMalformed // a bad escape next to a token: refuse, do not guess
	}
	for name, vs := range values {
		switch {
		case strings.EqualFold(name, TokenParam):
			*occ = append(*occ, vs...)
		case mentionsToken(name):
			return ErrMalformed // e.g. "X-Plex-Token=…" double-encoded into a name
		}
		for _, v := range vs {
			if !mentionsToken(v) {
				continue
			}
			inner := v
			if _, q, ok := strings.Cut(v, "?"); ok {
				inner, _, _ = strings.Cut(q, "#")
			}
			if err := scanQuery(inner, depth+1, occ); err != nil {
				return err
			}
		}
	}
	return nil
}

// mentionsToken reports whether s names the token parameter, also after
// being percent-decoded up to maxNesting times.
func mentionsToken(s string) bool {
	for range maxNesting + 1 {
		if containsFold(s, TokenParam) {
			return true
		}
		dec, err := url.QueryUnescape(s)
		if err != nil || dec == s {
			return false
		}
		s = dec
	}
	return containsFold(s, TokenParam)
}

func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// validToken reports whether t can be a Plex token: 1 to MaxTokenLen
// characters from the base64url alphabet plus ".", "~", "+", "/" and "="
// (account tokens are short alphanumeric strings; newer ones are JWTs).
func validToken(t string) bool {
	if t == "" || len(t) > MaxTokenLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~+/=", c) >= 0) {
			return false
		}
	}
	return true
}
