package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Claim-level verification failures, compared directly like those of
// token.go.
var (
	errClaimName     = errors.New("plexgate: token: repeated claim name, or a claim name in another case")
	errMissingClaim  = errors.New("plexgate: token: required claim missing")
	errIssuedAhead   = errors.New("plexgate: token: issued in the future")
	errHeaderMembers = errors.New("plexgate: token: header must hold exactly alg, typ and kid")
	errDateOrder     = errors.New("plexgate: token: auth_time after iat, or rat before iat")
)

// The kinds of JSON value a defined claim may have (docs/contract.md,
// "Valid session token"). They are plain int constants: Yaegi v0.16.1
// compares a struct field of a named integer type with a typed iota
// constant as unequal even when both are 5.
const (
	kindString  = 1 // a JSON string
	kindID      = 2 // a non-empty JSON string
	kindDate    = 3 // a whole JSON number in [0, maxDate]
	kindStrings = 4 // an array of JSON strings
	kindHeaders = 5 // an object of JSON strings, no name twice
)

// maxDate is the last second of the year 9999 (9999-12-31T23:59:59Z): a
// date beyond it is refused, so no date arithmetic on either side can
// overflow int64.
const maxDate = 253402300799

// claimSpec is one row of the session claim table.
type claimSpec struct {
	name     string
	kind     int // kindString …
	required bool
}

// sessionClaims is the claim table of docs/contract.md: every claim name
// forwardauth's session parser knows, with its type. A claim not listed
// may hold any JSON value and is ignored. Adding a claim is one row here
// (and the same row in forwardauth/session).
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

// claimTable indexes a claim table by folded name (foldName).
type claimTable struct {
	byFold   map[string]claimSpec
	required int
}

func newClaimTable(specs []claimSpec) *claimTable {
	t := &claimTable{byFold: make(map[string]claimSpec, len(specs))}
	for _, s := range specs {
		t.byFold[foldName(s.name)] = s
		if s.required {
			t.required++
		}
	}
	return t
}

var sessionTable = newClaimTable(sessionClaims)

// foldName maps names that encoding/json would match to one another
// (bytes.EqualFold: each rune to the smallest rune of its case-folding
// orbit) to the same string, lower case for ASCII. An ASCII name, every
// name forwardauth writes, takes strings.ToLower alone, which returns a
// lower-case name as it is: a loop over runes is costly under Yaegi.
func foldName(name string) string {
	if utf8.RuneCountInString(name) == len(name) {
		return strings.ToLower(name)
	}
	var b strings.Builder
	for _, r := range name {
		for {
			next := unicode.SimpleFold(r)
			if next <= r {
				r = next
				break
			}
			r = next
		}
		if r < utf8.RuneSelf {
			r = unicode.ToLower(r) // 'K' for k and the Kelvin sign: back to 'k'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// decodeClaims decodes a token's payload, one JSON object, checking its
// members against table: no name twice, a name that folds to a defined
// claim spelled exactly and its value of the claim's kind, every required
// claim present. Values are those of json.Unmarshal into any. A payload as
// forwardauth writes it takes decodeCompact; any other, decodeMembers.
// TestCompactPathAgreesWithMemberByMember holds the two together.
func decodeClaims(raw []byte, table *claimTable) (map[string]any, error) {
	if claims := decodeCompact(raw, table); claims != nil {
		return claims, nil
	}
	return decodeMembers(raw, table)
}

// decodeMembers is decodeClaims member by member, with json.Decoder. The
// loop is written out, without a helper call per member: under Yaegi each
// interpreted call costs a frame and allocations.
func decodeMembers(raw []byte, table *claimTable) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errMalformed
	}
	claims := make(map[string]any, 16)
	required := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errMalformed
		}
		name, _ := tok.(string)
		if _, dup := claims[name]; dup {
			return nil, errClaimName
		}
		spec, defined := table.byFold[foldName(name)]
		if defined && spec.name != name {
			return nil, errClaimName
		}
		var v any
		if defined && spec.kind == kindHeaders {
			if v, err = decodeHeaders(dec); err != nil {
				return nil, err
			}
		} else {
			if dec.Decode(&v) != nil {
				return nil, errMalformed
			}
			if defined && !hasKind(v, spec.kind) {
				return nil, errInvalidClaim
			}
		}
		if spec.required {
			required++
		}
		claims[name] = v
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, errMalformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errMalformed
	}
	if required != table.required {
		return nil, errMissingClaim
	}
	return claims, nil
}

// decodeCompact is decodeClaims' fast path for a payload as forwardauth
// writes it (compact, valid UTF-8, names without escapes): json.Unmarshal
// does the work, compiled, and a length sum proves that no name appears
// twice. With members the payload's members as decoded (the last of a
// repeated name kept), len(raw) = 1 + Σ(len(name)+len(value)+4) holds only
// when nothing was lost or shortened: a repeated member, white space or an
// escape in a name makes the sum smaller, and valid UTF-8 cannot grow in
// decoding. It returns nil whenever it cannot accept, and decodeClaims then
// decides, member by member.
func decodeCompact(raw []byte, table *claimTable) map[string]any {
	var members map[string]json.RawMessage
	var claims map[string]any
	if !utf8.Valid(raw) || bytes.Contains(raw, longS) ||
		json.Unmarshal(raw, &members) != nil || json.Unmarshal(raw, &claims) != nil {
		return nil
	}
	n, required := 1, 0
	for name, value := range members {
		n += len(name) + len(value) + 4
		spec, defined := table.byFold[strings.ToLower(name)]
		if !defined {
			continue
		}
		if spec.name != name || spec.kind == kindHeaders && !compactStrings(value) || spec.kind != kindHeaders && !hasKind(claims[name], spec.kind) {
			return nil
		}
		if spec.required {
			required++
		}
	}
	if n != len(raw) || required != table.required {
		return nil
	}
	return claims
}

// longS is the one rune that folds to an ASCII letter (ſ to s) but that
// strings.ToLower leaves as it is (the other, the Kelvin sign, it lowers
// to k): without it in the payload, a name whose foldName is a defined
// claim has that claim as its strings.ToLower too. A name that
// strings.ToLower alone maps to a claim (İss) is sent to decodeMembers by
// the exact-spelling check.
var longS = []byte("\u017f")

// compactStrings reports whether raw is a JSON object of strings written
// compactly, without a repeated name (the length sum of decodeCompact).
func compactStrings(raw json.RawMessage) bool {
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return false
	}
	n := 1
	for name, value := range members {
		n += len(name) + len(value) + 4
		if value[0] != '"' {
			return false
		}
	}
	return n == len(raw) || len(members) == 0 && string(raw) == "{}"
}

// decodeHeaders reads the hdr claim: an object of strings, no name twice.
func decodeHeaders(dec *json.Decoder) (map[string]any, error) {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errInvalidClaim
	}
	hdr := make(map[string]any, 8)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errMalformed
		}
		name, _ := tok.(string)
		if _, dup := hdr[name]; dup {
			return nil, errClaimName
		}
		if tok, err = dec.Token(); err != nil {
			return nil, errMalformed
		}
		value, ok := tok.(string)
		if !ok {
			return nil, errInvalidClaim
		}
		hdr[name] = value
	}
	if _, err := dec.Token(); err != nil {
		return nil, errMalformed
	}
	return hdr, nil
}

// hasKind reports whether v, a value decoded into any, is of kind k.
func hasKind(v any, k int) bool {
	switch k {
	case kindString:
		_, ok := v.(string)
		return ok
	case kindID:
		s, ok := v.(string)
		return ok && s != ""
	case kindDate:
		f, ok := v.(float64)
		return ok && f >= 0 && f <= maxDate && float64(int64(f)) == f
	case kindStrings:
		list, ok := v.([]any)
		for i := 0; ok && i < len(list); i++ {
			_, ok = list[i].(string)
		}
		return ok
	}
	return false
}

// checkClaims checks the dates, aud and iss of claims that decodeClaims
// accepted (so each date is a whole number of seconds in [0, maxDate]) at
// now, in Unix nanoseconds. With the leeway L: exp is met while
// now < exp+L, nbf and iat once now >= date-L. For a whole number of
// seconds s and any t, s*1e9 > t ⟺ s > ⌊t/1e9⌋, so the comparisons are on
// integer seconds, without time.Time (costly under Yaegi).
func checkClaims(v *verifier, claims map[string]any, now int64) error {
	late := floorSeconds(now - int64(v.leeway))
	early := floorSeconds(now + int64(v.leeway))
	if int64(claims["exp"].(float64)) <= late {
		return errExpired
	}
	if int64(claims["iat"].(float64)) > early {
		return errIssuedAhead
	}
	if nbf, ok := claims["nbf"].(float64); ok && int64(nbf) > early {
		return errNotYetValid
	}
	iat := claims["iat"].(float64)
	if at, ok := claims["auth_time"].(float64); ok && at > iat {
		return errDateOrder
	}
	if rat, ok := claims["rat"].(float64); ok && rat < iat {
		return errDateOrder
	}
	if claims["aud"].(string) != v.audience {
		return errAudience
	}
	if v.issuer != "" && claims["iss"].(string) != v.issuer {
		return errIssuer
	}
	return nil
}

// floorSeconds is ⌊t/1e9⌋ for t in Unix nanoseconds.
func floorSeconds(t int64) int64 {
	q := t / 1e9
	if t%1e9 < 0 {
		q--
	}
	return q
}

// decodeHeader decodes a token's JOSE header: one JSON object holding
// exactly the string members alg, typ and kid, each once.
func decodeHeader(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errMalformed
	}
	header := make(map[string]any, 3)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errMalformed
		}
		name, _ := tok.(string)
		if _, dup := header[name]; dup {
			return nil, errClaimName
		}
		var v any
		if dec.Decode(&v) != nil {
			return nil, errMalformed
		}
		if _, ok := v.(string); !ok || (name != "alg" && name != "typ" && name != "kid") {
			return nil, errHeaderMembers
		}
		header[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, errMalformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errMalformed
	}
	if len(header) != 3 {
		return nil, errHeaderMembers
	}
	return header, nil
}
