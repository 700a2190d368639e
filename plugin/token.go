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
}

// verify checks token at time now and returns its claims.
func (v *verifier) verify(ctx context.Context, token string, now time.Time) (map[string]any, error) {
	if len(token) > maxTokenBytes {
		return nil, errTooLong
	}
	head, rest, ok1 := strings.Cut(token, ".")
	body, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(sig, '.') >= 0 {
		return nil, errMalformed
	}
	header, err := decodeJSON(head)
	if err != nil {
		return nil, err
	}
	claims, err := decodeJSON(body)
	if err != nil {
		return nil, err
	}
	signature, err := b64.DecodeString(sig)
	if err != nil {
		return nil, errMalformed
	}
	if err := v.checkSignature(ctx, header, token[:len(head)+1+len(body)], signature); err != nil {
		return nil, err
	}
	if err := v.checkClaims(claims, now); err != nil {
		return nil, err
	}
	return claims, nil
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

func (v *verifier) checkSignature(ctx context.Context, header map[string]any, signed string, sig []byte) error {
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
		return v.checkEdDSA(ctx, header, signed, sig)
	}
	return errAlgorithm
}

// checkEdDSA verifies with the key named by "kid", or with every known key
// when the header has no "kid".
func (v *verifier) checkEdDSA(ctx context.Context, header map[string]any, signed string, sig []byte) error {
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

// checkClaims checks exp (required), nbf, aud and iss like jwt/v5's
// validator does for MapClaims.
func (v *verifier) checkClaims(claims map[string]any, now time.Time) error {
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
	if !hasAudience(claims["aud"], v.audience) {
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

// tokenExpiry reads "exp" from a token's payload without verifying it; it
// only shortens how long forwardauth's positive answer is cached. ok is
// false when there is no readable exp.
func tokenExpiry(token string) (time.Time, bool) {
	if len(token) > maxTokenBytes {
		return time.Time{}, false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	claims, err := decodeJSON(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	exp, err := numericDate(claims, "exp")
	if err != nil || exp.IsZero() {
		return time.Time{}, false
	}
	return exp, true
}
