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
	errKeyID        = errors.New("plexgate: token: kid does not name the key")
	errType         = errors.New("plexgate: token: typ is not JWT")
	errUnknownKey   = errors.New("plexgate: token: unknown key id")
	errSignature    = errors.New("plexgate: token: bad signature")
	errExpired      = errors.New("plexgate: token: expired")
	errNotYetValid  = errors.New("plexgate: token: not valid yet")
	errAudience     = errors.New("plexgate: token: wrong audience")
	errIssuer       = errors.New("plexgate: token: wrong issuer")
	errInvalidClaim = errors.New("plexgate: token: claim of the wrong type")
)

// b64 is base64url without padding, rejecting non-canonical encodings
// (padding, unused low bits set). It still skips CR and LF, which verify
// refuses before decoding.
var b64 = base64.RawURLEncoding.Strict()

// keyLookup finds Ed25519 public keys.
type keyLookup interface {
	// key returns the key with id kid, fetching the key set if needed.
	key(ctx context.Context, kid string) []byte
}

// verifier checks session tokens with the standard library only. It
// accepts exactly the tokens docs/contract.md calls valid ("Valid session
// token"), as forwardauth's own parser does with the same keys, issuer,
// audience and leeway; the differential tests hold the two together.
type verifier struct {
	edKeys   keyLookup // nil: EdDSA not allowed
	hmacKey  []byte    // nil: HS256 not allowed
	hmacKID  string    // the kid of hmacKey (hmacKeyID)
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

// hmacKeyID is the kid forwardauth gives an HS256 secret: the first 8
// bytes of its SHA-256, base64url (docs/contract.md).
func hmacKeyID(secret []byte) string {
	sum := sha256.Sum256(secret)
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}

// verify checks token at now (Unix nanoseconds) and returns its claims.
func verify(ctx context.Context, v *verifier, token string, now int64) (map[string]any, error) {
	if len(token) > maxTokenBytes {
		return nil, errTooLong
	}
	head, rest, ok1 := strings.Cut(token, ".")
	body, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(sig, '.') >= 0 || strings.ContainsAny(token, "\r\n") {
		return nil, errMalformed
	}
	cached, known := v.heads.Load(head)
	header, _ := cached.(map[string]any)
	if !known {
		raw, err := b64.DecodeString(head)
		if err != nil {
			return nil, errMalformed
		}
		if header, err = decodeHeader(raw); err != nil {
			return nil, err
		}
	}
	raw, err := b64.DecodeString(body)
	if err != nil {
		return nil, errMalformed
	}
	claims, err := decodeClaims(raw, sessionTable)
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
// to a nil map, as encoding/json does.
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

// checkSignature checks typ, then verifies sig with the key that alg and
// kid name (decodeHeader made all three strings).
func checkSignature(ctx context.Context, v *verifier, header map[string]any, signed string, sig []byte) error {
	if typ, _ := header["typ"].(string); typ != "JWT" {
		return errType
	}
	alg, _ := header["alg"].(string)
	kid, _ := header["kid"].(string)
	switch {
	case alg == "HS256" && v.hmacKey != nil:
		if kid != v.hmacKID {
			return errKeyID
		}
		mac := hmac.New(sha256.New, v.hmacKey)
		mac.Write([]byte(signed))
		if !hmac.Equal(sig, mac.Sum(nil)) {
			return errSignature
		}
		return nil
	case alg == "EdDSA" && v.edKeys != nil:
		key := v.edKeys.key(ctx, kid)
		if key == nil {
			return errUnknownKey
		}
		if !ed25519.Verify(ed25519.PublicKey(key), []byte(signed), sig) {
			return errSignature
		}
		return nil
	}
	return errAlgorithm
}

// expiryNanos is a claims' "exp" in Unix nanoseconds, for bounding how long
// an answer is cached, or 0 when there is no exp in (0, maxDate].
func expiryNanos(claims map[string]any) int64 {
	exp, ok := claims["exp"].(float64)
	if !ok || !(exp > 0 && exp <= maxDate) {
		return 0
	}
	sec := int64(exp) // whole in a verified token; truncated otherwise
	if sec > math.MaxInt64/int64(time.Second) {
		return 0 // past 2262: as good as none for a cache entry
	}
	return sec * int64(time.Second)
}
