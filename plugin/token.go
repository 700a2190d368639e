package plugin

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"time"
)

// maxTokenBytes bounds the tokens the plugin looks at; forwardauth keeps its
// cookie under 3.5 KB (docs/contract.md).
const maxTokenBytes = 4096

// Verification failures. They are compared directly (never with errors.Is,
// which Yaegi gets wrong for interpreted types) and only ever logged.
var (
	errTooLong      = errors.New("plexgate: token: longer than 4096 bytes")
	errMalformed    = errors.New("plexgate: token: malformed")
	errAlgorithm    = errors.New("plexgate: token: algorithm not allowed")
	errKeyID        = errors.New("plexgate: token: kid is not a string")
	errUnknownKey   = errors.New("plexgate: token: unknown key id")
	errSignature    = errors.New("plexgate: token: bad signature")
	errExpired      = errors.New("plexgate: token: expired or no exp")
	errNotYetValid  = errors.New("plexgate: token: not valid yet")
	errAudience     = errors.New("plexgate: token: wrong audience")
	errIssuer       = errors.New("plexgate: token: wrong issuer")
	errInvalidClaim = errors.New("plexgate: token: claim of the wrong type")
)

// b64 is base64url without padding, rejecting non-canonical encodings.
var b64 = base64.RawURLEncoding.Strict()

// keyLookup finds Ed25519 public keys.
type keyLookup interface {
	// key returns the key with id kid, fetching the key set if needed.
	key(ctx context.Context, kid string) []byte
	// all returns every key known now.
	all() [][]byte
}

// verifier checks session tokens with the standard library only. It accepts
// exactly what github.com/golang-jwt/jwt/v5 accepts when configured with the
// same keys, algorithms (WithValidMethods), issuer, audience, leeway,
// WithExpirationRequired and WithStrictDecoding, for tokens up to
// maxTokenBytes; FuzzVerifyMatchesJWT holds it to that.
type verifier struct {
	edKeys   keyLookup // nil: EdDSA not allowed
	hmacKey  []byte    // nil: HS256 not allowed
	issuer   string    // "": not checked
	audience string
	leeway   time.Duration

	// heads maps the header segments of tokens that verified to their
	// decoded form: forwardauth writes one per key, so decoding is skipped
	// from the second token on. At most maxHeads are kept.
	heads   sync.Map // string → map[string]any, never modified
	headsMu sync.Mutex
	headsN  int
}

// maxHeads bounds verifier.heads.
const maxHeads = 16

// verify checks token at now (Unix nanoseconds) and returns its claims.
func verify(ctx context.Context, v *verifier, token string, now int64) (map[string]any, error) {
	if len(token) > maxTokenBytes {
		return nil, errTooLong
	}
	head, rest, ok1 := strings.Cut(token, ".")
	body, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(sig, '.') >= 0 {
		return nil, errMalformed
	}
	cached, known := v.heads.Load(head)
	header, _ := cached.(map[string]any)
	if !known {
		var err error
		if header, err = decodeJSON(head); err != nil {
			return nil, err
		}
	}
	claims, err := decodeJSON(body)
	if err != nil {
		return nil, err
	}
	signature, err := b64.DecodeString(sig)
	if err != nil {
		return nil, errMalformed
	}
	if err := checkSignature(ctx, v, header, token[:len(head)+1+len(body)], signature); err != nil {
		return nil, err
	}
	if err := checkClaims(v, claims, now); err != nil {
		return nil, err
	}
	if !known {
		rememberHead(v, head, header)
	}
	return claims, nil
}

// rememberHead files a verified token's decoded header in v.heads.
func rememberHead(v *verifier, head string, header map[string]any) {
	v.headsMu.Lock()
	defer v.headsMu.Unlock()
	if v.headsN < maxHeads {
		v.headsN++
		v.heads.Store(strings.Clone(head), header)
	}
}

// decodeJSON decodes one base64url JSON segment into a map. "null" decodes
// to a nil map, as encoding/json (and so jwt/v5) does.
func decodeJSON(segment string) (map[string]any, error) {
	raw, err := b64.DecodeString(segment)
	if err != nil {
		return nil, errMalformed
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errMalformed
	}
	return m, nil
}

func checkSignature(ctx context.Context, v *verifier, header map[string]any, signed string, sig []byte) error {
	alg, _ := header["alg"].(string)
	switch {
	case alg == "HS256" && v.hmacKey != nil:
		mac := hmac.New(sha256.New, v.hmacKey)
		mac.Write([]byte(signed))
		if !hmac.Equal(sig, mac.Sum(nil)) {
			return errSignature
		}
		return nil
	case alg == "EdDSA" && v.edKeys != nil:
		return checkEdDSA(ctx, v, header, signed, sig)
	}
	return errAlgorithm
}

// checkEdDSA verifies with the key named by "kid", or with every known key
// when the header has no "kid".
func checkEdDSA(ctx context.Context, v *verifier, header map[string]any, signed string, sig []byte) error {
	rawKid, hasKid := header["kid"]
	if hasKid {
		kid, ok := rawKid.(string)
		if !ok {
			return errKeyID
		}
		key := v.edKeys.key(ctx, kid)
		if key == nil {
			return errUnknownKey
		}
		if !ed25519.Verify(ed25519.PublicKey(key), []byte(signed), sig) {
			return errSignature
		}
		return nil
	}
	for _, key := range v.edKeys.all() {
		if ed25519.Verify(ed25519.PublicKey(key), []byte(signed), sig) {
			return nil
		}
	}
	return errSignature
}

// checkClaims checks exp (required), nbf, aud and iss at now (Unix
// nanoseconds) like jwt/v5's validator does for MapClaims.
//
// Dates in (0, maxFastSeconds), which is every date forwardauth writes, are
// compared as integer seconds, written out here: under Yaegi each time.Time
// operation and each function call costs reflection and allocations, and
// this is local verification's hot path. Anything else (no exp, a wrong
// type, 0, negative, huge, NaN) takes jwt/v5's own arithmetic in
// checkTimesSlow; TestFastTimesMatchTimeArithmetic holds the two together.
func checkClaims(v *verifier, claims map[string]any, now int64) error {
	exp, isNumber := claims["exp"].(float64)
	rawNbf, hasNbf := claims["nbf"]
	nbf, nbfIsNumber := rawNbf.(float64)
	if !isNumber || !(exp > 0 && exp < maxFastSeconds) || hasNbf && (!nbfIsNumber || !(nbf > 0 && nbf < maxFastSeconds)) {
		if err := checkTimesSlow(v, claims, now); err != nil {
			return err
		}
	} else {
		// For a date in (0, maxFastSeconds) jwt/v5's time.Unix(whole,
		// frac*1e9).Truncate(time.Second) is int64(date), and for integer
		// seconds s and any t, s*1e9 > t ⟺ s > ⌊t/1e9⌋.
		t := now - int64(v.leeway) // not expired: now < exp + leeway
		q := t / 1e9
		if t%1e9 < 0 {
			q-- // ⌊t/1e9⌋
		}
		if int64(exp) <= q {
			return errExpired
		}
		t = now + int64(v.leeway) // valid: now >= nbf - leeway
		q = t / 1e9
		if t%1e9 < 0 {
			q--
		}
		if hasNbf && int64(nbf) > q {
			return errNotYetValid
		}
	}
	// A string aud, the form forwardauth writes, is compared here without
	// the call to hasAudience (a call is the costly part under Yaegi).
	if aud, ok := claims["aud"].(string); ok {
		if aud != v.audience {
			return errAudience
		}
	} else if !hasAudience(claims["aud"], v.audience) {
		return errAudience
	}
	if v.issuer != "" {
		iss, ok := claims["iss"].(string)
		if !ok || iss != v.issuer {
			return errIssuer
		}
	}
	return nil
}

// maxFastSeconds bounds the dates checkClaims compares as integers: below
// it no arithmetic of jwt/v5's time.Time path (seconds to nanoseconds, the
// leeway, truncation) can overflow.
const maxFastSeconds = 1e11 // year 5138

// checkTimesSlow checks exp and nbf with time.Time, exactly as jwt/v5 does.
func checkTimesSlow(v *verifier, claims map[string]any, nowNanos int64) error {
	now := time.Unix(0, nowNanos)
	exp, err := numericDate(claims, "exp")
	if err != nil {
		return err
	}
	if exp.IsZero() || !now.Before(exp.Add(v.leeway)) {
		return errExpired
	}
	nbf, err := numericDate(claims, "nbf")
	if err != nil {
		return err
	}
	if !nbf.IsZero() && now.Before(nbf.Add(-v.leeway)) {
		return errNotYetValid
	}
	return nil
}

// numericDate reads a NumericDate claim: a JSON number of seconds, the
// fraction kept below the second and then truncated to the second, as
// jwt/v5 does. An absent claim or 0 gives the zero time.
func numericDate(claims map[string]any, name string) (time.Time, error) {
	raw, ok := claims[name]
	if !ok {
		return time.Time{}, nil
	}
	f, ok := raw.(float64)
	if !ok {
		return time.Time{}, errInvalidClaim
	}
	if f == 0 {
		return time.Time{}, nil
	}
	whole, frac := math.Modf(f)
	return time.Unix(int64(whole), int64(frac*1e9)).Truncate(time.Second), nil
}

// expiryNanos is a claims' "exp" in Unix nanoseconds, for bounding how long
// an answer is cached, or 0 when there is no exp in (0, maxFastSeconds).
func expiryNanos(claims map[string]any) int64 {
	exp, ok := claims["exp"].(float64)
	if !ok || !(exp > 0 && exp < maxFastSeconds) {
		return 0
	}
	sec := int64(exp) // as in checkClaims
	if sec > math.MaxInt64/int64(time.Second) {
		return 0 // past 2262: as good as none for a cache entry
	}
	return sec * int64(time.Second)
}

// hasAudience reports whether aud (a string or an array of strings) names
// want, which is never empty.
func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		found := false
		for _, item := range a {
			s, ok := item.(string)
			if !ok {
				return false
			}
			if s == want {
				found = true
			}
		}
		return found
	}
	return false
}
