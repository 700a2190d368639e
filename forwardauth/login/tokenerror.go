package login

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// RejectedError is the token endpoint's OAuth 2.0 error response (RFC 6749
// section 5.2) to the code exchange: a 400 or 401 with an "error" member.
// The provider was reached and answered; ByRequest tells whose fault it is.
type RejectedError struct {
	// Status is the HTTP status, 400 or 401.
	Status int
	// Code is the "error" member, e.g. "invalid_grant" (SafeText).
	Code string
	// Description is the "error_description" member, "" when absent (SafeText).
	Description string
}

func (e *RejectedError) Error() string {
	s := fmt.Sprintf("oidc: token endpoint refused the code: %d %s", e.Status, e.Code)
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// ByRequest reports whether the request is at fault: its code is unknown,
// expired, already used or not bound to this login's PKCE verifier
// (invalid_grant), or the request is malformed (invalid_request). Anything
// else (invalid_client, unauthorized_client, unsupported_grant_type,
// invalid_scope, …) means forwardauth's client configuration does not match
// the provider's.
func (e *RejectedError) ByRequest() bool {
	return e.Code == "invalid_grant" || e.Code == "invalid_request"
}

// exchangeError turns a failed code exchange into a *RejectedError when the
// provider refused the code, and otherwise into an error whose text holds at
// most MaxText bytes of what the provider sent.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return fmt.Errorf("oidc: exchange: %w", err)
	}
	status := re.Response.StatusCode
	if (status == http.StatusBadRequest || status == http.StatusUnauthorized) && re.ErrorCode != "" {
		return &RejectedError{Status: status, Code: SafeText(re.ErrorCode), Description: SafeText(re.ErrorDescription)}
	}
	return fmt.Errorf("oidc: exchange: token endpoint answered %d: %s", status, SafeText(string(re.Body)))
}

// MaxText is the most bytes SafeText keeps.
const MaxText = 200

// SafeText makes a value that came from a request or a provider fit for a
// log line or a page: characters that are not printable (controls, line
// breaks, bidirectional overrides, invalid UTF-8) are dropped, and the text
// is cut to MaxText bytes on a rune boundary, "…" marking the cut. It does
// not escape: slog quotes attributes and html/template escapes pages.
func SafeText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError || (!unicode.IsPrint(r) && r != ' ') {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > MaxText {
			return strings.TrimSpace(b.String()) + "…"
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}
