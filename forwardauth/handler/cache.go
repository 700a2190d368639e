package handler

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/plexgate/plexgate/forwardauth/session"
)

// tokenCache remembers verified session tokens by their SHA-256, until the
// token expires, so repeated /validate calls skip signature verification.
// It holds at most max entries.
type tokenCache struct {
	max int
	now func() time.Time

	mu      sync.RWMutex
	entries map[[32]byte]*session.Claims
}

func newTokenCache(max int, now func() time.Time) *tokenCache {
	return &tokenCache{max: max, now: now, entries: make(map[[32]byte]*session.Claims, max)}
}

// get returns the cached claims of raw when present and not expired.
func (c *tokenCache) get(raw string) (*session.Claims, bool) {
	key := sha256.Sum256([]byte(raw))
	c.mu.RLock()
	claims, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !c.now().Before(claims.ExpiresAt.Time) {
		return nil, false
	}
	return claims, true
}

// put caches claims for raw, evicting expired entries, then arbitrary ones, when full.
func (c *tokenCache) put(raw string, claims *session.Claims) {
	key := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.evict()
	}
	c.entries[key] = claims
}

// evict drops expired entries; if none expired it drops about a tenth of
// the entries (map order is random).
func (c *tokenCache) evict() {
	now := c.now()
	for k, v := range c.entries {
		if !now.Before(v.ExpiresAt.Time) {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.max*9/10 {
			break
		}
		delete(c.entries, k)
	}
}

// len returns the number of cached tokens.
func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
