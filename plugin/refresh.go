package plugin

import (
	"math"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Refresh points (docs/contract.md). forwardauth writes "rat" ("refresh
// at", a NumericDate: iat + session.refresh_after) into every session token.
// Before it, the plugin trusts a token it can verify; from it on, the token
// is a miss and is delegated, so that forwardauth re-applies its current
// rules and answers with a fresh token in Set-Cookie. No cache entry made
// from a token outlives its refresh point, so the hit path does no extra
// work. When forwardauth cannot answer at that point, a token the plugin
// verified itself is honoured until its exp.

// refreshNanos reads a token's refresh point in Unix nanoseconds. has is
// false when there is no "rat" (a token minted before refresh points
// existed: trusted until exp, as it always was). A "rat" that is not a
// number in (0, maxDate] is due at once (0, true): forwardauth, which
// never writes one, decides.
func refreshNanos(claims map[string]any) (at int64, has bool) {
	raw, ok := claims["rat"]
	if !ok {
		return 0, false
	}
	rat, ok := raw.(float64)
	if !ok || !(rat > 0 && rat <= maxDate) {
		return 0, true
	}
	if sec := int64(rat); sec <= math.MaxInt64/int64(time.Second) {
		return sec * int64(time.Second), true
	}
	return math.MaxInt64, true // past 2262: never, for a cache entry
}

// earlier returns the earlier of two moments, 0 meaning none.
func earlier(a, b int64) int64 {
	if a == 0 || b != 0 && b < a {
		return b
	}
	return a
}

// unverifiedClaims decodes a token's payload without verifying it, or
// returns nil. It only ever shortens how long an answer is cached.
func unverifiedClaims(token string) map[string]any {
	if len(token) > maxTokenBytes {
		return nil
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil
	}
	claims, err := decodeJSON(parts[1])
	if err != nil {
		return nil
	}
	return claims
}

// delegatedUntil is until when forwardauth's positive answer for token may
// be cached, in Unix nanoseconds (0: unknown, the TTL alone bounds it): the
// token's exp and, when it is still ahead, its refresh point. An answer
// given past the refresh point is fresh itself (forwardauth has just applied
// its current rules) and is kept for the TTL: parallel requests still
// carrying the old cookie then do not each mint a new one, and a Bearer
// client, which cannot take a new cookie, is not delegated on every request.
func delegatedUntil(token string, now int64) int64 {
	claims := unverifiedClaims(token)
	until := expiryNanos(claims)
	if rat, has := refreshNanos(claims); has && rat > now {
		until = earlier(until, rat)
	}
	return until
}

// keyBound returns until when a verified token tok may be cached because of
// the key that verified it (see keySet.trustedUntil), and the key id to file
// its entry under ("*" for a token without kid): 0, "" when no key fetched
// from the JWKS verified it (HS256, an inline key, no JWKSURL).
func keyBound(m *Middleware, tok string) (int64, string) {
	if m.keys == nil || m.keys.url == "" {
		return 0, ""
	}
	head, _, _ := strings.Cut(tok, ".")
	cached, known := m.verifier.heads.Load(head)
	header, _ := cached.(map[string]any)
	if !known {
		header, _ = decodeJSON(head)
	}
	if alg, _ := header["alg"].(string); alg != "EdDSA" {
		return 0, ""
	}
	kid, hasKid := header["kid"].(string)
	bound := m.keys.trustedUntil(kid)
	if bound == 0 {
		return 0, ""
	}
	if !hasKid {
		kid = "*"
	}
	return bound, kid
}

// fallback is a token the plugin verified itself but found past its
// refresh point: honoured if forwardauth cannot answer for it.
type fallback struct {
	token      string
	id         *identity
	until      int64 // exp, bounded by the key's trust (Unix nanoseconds)
	fromCookie bool
}

// outage remembers whether forwardauth is failing, so that an outage is
// logged once when it starts and once when it ends, not on every request.
type outage struct {
	mu   sync.Mutex
	down bool
}

// outageSet records whether forwardauth just failed (down) or answered, and
// reports whether that changed the state.
func outageSet(o *outage, down bool) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	changed := o.down != down
	o.down = down
	return changed
}

// companionFailed handles forwardauth not answering (reason says how): a
// token verified locally is honoured until its exp, its answer cached like
// any other (so forwardauth is asked again after CacheTTL); anything else
// gets 503.
func companionFailed(m *Middleware, rw http.ResponseWriter, req *http.Request, fb *fallback, now int64, reason string) {
	started := outageSet(m.outage, true)
	if started {
		m.log.Warn("forwardauth unreachable or failing: answering 503 to requests only it can decide, honouring session tokens verified here until their exp; logged again when it answers", "reason", reason)
	}
	if fb == nil {
		if !started {
			m.log.Debug("forwardauth unreachable, answering 503", "reason", reason)
		}
		unavailable(rw)
		return
	}
	if !started {
		m.log.Debug("forwardauth unreachable at a refresh point, honouring the session until exp", "reason", reason)
	}
	cachePut(m.cache, fb.token, fb.id, fb.until, now)
	allowCached(m, rw, req, fb.id, fb.fromCookie, now)
}

// companionAnswered logs the end of an outage.
func companionAnswered(m *Middleware) {
	if outageSet(m.outage, false) {
		m.log.Info("forwardauth answers again")
	}
}
