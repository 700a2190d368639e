package session

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The checks of docs/contract.md ("Valid session token") that jwt/v5 does
// not make. jwt/v5 decodes claims with encoding/json, which matches member
// names to struct fields case-insensitively, keeps the last of repeated
// names, reads a quoted number as a NumericDate and a null as "absent";
// checkRaw refuses all of these on the raw segments before jwt/v5 parses
// the token (with WithStrictDecoding), so that forwardauth accepts exactly
// what the plugin's verifier accepts.

// MaxTokenBytes bounds the tokens looked at (the cookie stays under
// MaxCookieBytes).
const MaxTokenBytes = 4096

// maxDate is 9999-12-31T23:59:59Z: no date beyond it is accepted, so no
// date arithmetic can overflow int64.
const maxDate = 253402300799

// claimKind is the JSON type a defined claim must have.
type claimKind int

const (
	kindString  claimKind = iota + 1 // a JSON string
	kindID                           // a non-empty JSON string
	kindDate                         // a whole JSON number in [0, maxDate]
	kindStrings                      // an array of JSON strings
	kindHeaders                      // an object of JSON strings, no name twice
)

// claimSpec is one row of a claim table.
type claimSpec struct {
	name     string
	kind     claimKind
	required bool
}

// sessionClaims is the session claim table of docs/contract.md: every JSON
// name of Claims (and so of jwt.RegisteredClaims), with its kind. Adding a
// claim to Claims means adding its row here (and in plugin/claims.go).
var sessionClaims = []claimSpec{
	{"iss", kindString, true},
	{"aud", kindString, true},
	{"sub", kindID, true},
	{"sid", kindID, true},
	{"exp", kindDate, true},
	{"iat", kindDate, true},
	{"nbf", kindDate, false},
	{"auth_time", kindDate, false}, // sign-in time, at or before iat
	{"rat", kindDate, false},       // refresh point, at or after iat
	{"jti", kindString, false},
	{"email", kindString, false},
	{"name", kindString, false},
	{"acr", kindString, false},
	{"groups", kindStrings, false},
	{"amr", kindStrings, false},
	{"hdr", kindHeaders, false},
}

// stateClaims is the login-state claim table: every JSON name of
// LoginState.
var stateClaims = []claimSpec{
	{"iss", kindString, true},
	{"aud", kindString, true},
	{"exp", kindDate, true},
	{"iat", kindDate, true},
	{"nbf", kindDate, false},
	{"sub", kindString, false},
	{"jti", kindString, false},
	{"st", kindID, true},
	{"nonce", kindID, true},
	{"pkce", kindID, true},
	{"rd", kindID, true},
}

// errMalformed is the one error of checkRaw's structural checks.
var errMalformed = errors.New("malformed token")

// checkRaw checks token's encoding, its header (exactly the string members
// alg, typ and kid) and its payload against claims: no member name twice,
// a name equal to a defined claim's under case folding (strings.EqualFold,
// the rule encoding/json matches names to fields by) spelled exactly, each
// defined claim of its kind, the required ones present.
func checkRaw(token string, claims []claimSpec) error {
	if len(token) > MaxTokenBytes {
		return fmt.Errorf("%w: longer than %d bytes", errMalformed, MaxTokenBytes)
	}
	// base64's decoder skips CR and LF even in strict mode
	parts := strings.Split(token, ".")
	if len(parts) != 3 || strings.ContainsAny(token, "\r\n") {
		return fmt.Errorf("%w: not three base64url segments", errMalformed)
	}
	strict := base64.RawURLEncoding.Strict()
	head, err1 := strict.DecodeString(parts[0])
	body, err2 := strict.DecodeString(parts[1])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%w: not strict base64url", errMalformed)
	}
	if err := checkHeader(head); err != nil {
		return err
	}
	return checkPayload(body, claims)
}

// member is one name/value pair of a JSON object, in document order.
type member struct {
	name  string
	value json.RawMessage
}

// members parses raw, one JSON object and nothing after it, into its
// members; a name that appears twice is refused (encoding/json would keep
// the last).
func members(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: not a JSON object", errMalformed)
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errMalformed, err)
		}
		m := member{name: tok.(string)} // Token returns a string in name position
		if err := dec.Decode(&m.value); err != nil {
			return nil, fmt.Errorf("%w: %v", errMalformed, err)
		}
		for _, prev := range out {
			if prev.name == m.name {
				return nil, fmt.Errorf("%w: %q twice", errMalformed, m.name)
			}
		}
		out = append(out, m)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the object", errMalformed)
	}
	return out, nil
}

func checkHeader(raw []byte) error {
	ms, err := members(raw)
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if len(ms) != 3 {
		return fmt.Errorf("header: %w: want exactly alg, typ and kid", errMalformed)
	}
	for _, m := range ms {
		if (m.name != "alg" && m.name != "typ" && m.name != "kid") || m.value[0] != '"' {
			return fmt.Errorf("header: %w: member %q", errMalformed, m.name)
		}
	}
	return nil
}

func checkPayload(raw []byte, claims []claimSpec) error {
	ms, err := members(raw)
	if err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	present := map[string]bool{}
	dates := map[string]float64{}
	for _, m := range ms {
		for _, c := range claims {
			if !strings.EqualFold(m.name, c.name) {
				continue
			}
			if m.name != c.name {
				return fmt.Errorf("claims: %w: %q is not %q", errMalformed, m.name, c.name)
			}
			if !hasKind(m.value, c.kind) {
				return fmt.Errorf("claims: %w: %s of the wrong type", errMalformed, c.name)
			}
			if c.kind == kindDate {
				dates[c.name], _ = strconv.ParseFloat(string(m.value), 64)
			}
		}
		present[m.name] = true
	}
	for _, c := range claims {
		if c.required && !present[c.name] {
			return fmt.Errorf("claims: %w: %s missing", errMalformed, c.name)
		}
	}
	return checkDateOrder(dates, present)
}

// checkDateOrder requires auth_time <= iat <= rat where present.
func checkDateOrder(dates map[string]float64, present map[string]bool) error {
	if present["auth_time"] && dates["auth_time"] > dates["iat"] {
		return fmt.Errorf("claims: %w: auth_time after iat", errMalformed)
	}
	if present["rat"] && dates["rat"] < dates["iat"] {
		return fmt.Errorf("claims: %w: rat before iat", errMalformed)
	}
	return nil
}

// hasKind reports whether raw, one JSON value, is of kind k.
func hasKind(raw json.RawMessage, k claimKind) bool {
	switch k {
	case kindString:
		return raw[0] == '"'
	case kindID:
		return raw[0] == '"' && string(raw) != `""`
	case kindDate:
		if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
			return false // a string, null, ...: never a date
		}
		f, err := strconv.ParseFloat(string(raw), 64) // as encoding/json reads it
		return err == nil && f >= 0 && f <= maxDate && f == float64(int64(f))
	case kindStrings:
		var list []json.RawMessage
		if raw[0] != '[' || json.Unmarshal(raw, &list) != nil {
			return false
		}
		for _, item := range list {
			if item[0] != '"' {
				return false
			}
		}
		return true
	case kindHeaders:
		ms, err := members(raw)
		if raw[0] != '{' || err != nil {
			return false
		}
		for _, m := range ms {
			if m.value[0] != '"' {
				return false
			}
		}
		return true
	}
	return false
}
