package plugin

import (
	"strings"
	"sync"
	"time"
)

// maxLineKeyBytes bounds the Cookie header lines kept as cache keys; a
// longer line is still served, through its token's entry.
const maxLineKeyBytes = 8 << 10

// evictionSample is how many entries are looked at to choose one to evict
// when the cache is full and nothing has expired.
const evictionSample = 8

// sweepEvery is the time between two sweeps of expired entries, done by
// the next insertion: an expired entry leaves memory within about this
// long, or at once when its token is presented again.
const sweepEvery = time.Minute

// identity is what an allowed credential maps to: the identity headers to
// set on the request, and when that answer stops being valid.
type identity struct {
	// expires is in Unix nanoseconds: min(token exp, its refresh point,
	// cached at + TTL, and for a key fetched from the JWKS the moment the
	// key set is next re-read).
	expires int64
	headers []headerValue
	// kid names the fetched key that verified the token ("*" for a token
	// without kid), so that the entry goes when the key is dropped; "" when
	// no fetched key did.
	kid string
}

// headerValue is one identity header. values is shared by every request
// that hits the entry; it has no spare capacity, so a later append by
// another handler copies it instead of writing into the cache.
type headerValue struct {
	name   string
	values []string
}

// cache maps credentials to identities. It is bounded, safe for concurrent
// use and never returns an expired entry.
//
// Keys are strings of two kinds: a credential (a session token), and a
// whole Cookie header line in which a cookie carried a valid credential
// (see cacheAlias). The line key makes the common hit a single map lookup, with
// no cookie parsing at all. Under Yaegi a lookup keyed by the raw string is
// much cheaper than one keyed by hash/maphash sums or a SHA-256 of it, which
// would cost more than the rest of the hit (BenchmarkInterpretedHit in
// e2e/interp measures the hit). Go's map hash is seeded per process, so keys
// chosen by clients cannot flood a bucket; the memory cost is bounded by
// CacheMaxEntries × maxLineKeyBytes.
//
// A client can only hit an entry by sending its key, and every key contains
// the valid credential it was filed for: sending a line key, or a token key
// as a line, requires holding that credential already.
type cache struct {
	max int
	ttl time.Duration

	mu        sync.RWMutex
	entries   map[string]*identity
	lastSweep int64
}

func newCache(maxEntries int, ttl time.Duration) *cache {
	return &cache{max: maxEntries, ttl: ttl, entries: make(map[string]*identity)}
}

// The request path calls the cache through functions rather than methods:
// under Yaegi a method call costs several times a function call.

// cacheGet returns the identity cached for key if it is still valid at now
// (Unix nanoseconds), or nil. An expired entry is removed.
func cacheGet(c *cache, key string, now int64) *identity {
	c.mu.RLock()
	id := c.entries[key]
	c.mu.RUnlock()
	if id == nil {
		return nil
	}
	if now >= id.expires {
		c.mu.Lock()
		if cur := c.entries[key]; cur != nil && now >= cur.expires {
			delete(c.entries, key)
		}
		c.mu.Unlock()
		return nil
	}
	return id
}

// cachePut caches id for key until min(exp, now+TTL), all in Unix
// nanoseconds; exp 0 means unknown. Nothing is cached when that moment has
// passed or the cache is disabled (TTL 0).
func cachePut(c *cache, key string, id *identity, exp, now int64) {
	if c.ttl <= 0 {
		return
	}
	expires := now + int64(c.ttl)
	if exp != 0 && exp < expires {
		expires = exp
	}
	if expires <= now {
		return
	}
	id.expires = expires
	key = strings.Clone(key) // do not pin the request's Cookie header
	c.mu.Lock()
	c.sweepLocked(now)
	if _, ok := c.entries[key]; !ok {
		c.makeRoomLocked()
	}
	c.entries[key] = id
	c.mu.Unlock()
}

// cacheAlias files id, already cached by cachePut for a credential, under
// line too: the request's whole Cookie header, in which a cookie carried
// that credential. The next request with the same header is then a hit
// without parsing cookies. The alias shares id's expiry and counts towards
// the bound like any entry.
func cacheAlias(c *cache, line string, id *identity, now int64) {
	if line == "" || len(line) > maxLineKeyBytes || id.expires <= now {
		return // no line, too long, or id was not cached (expired or TTL 0)
	}
	line = strings.Clone(line)
	c.mu.Lock()
	if _, ok := c.entries[line]; !ok {
		c.makeRoomLocked()
	}
	c.entries[line] = id
	c.mu.Unlock()
}

// sweepLocked drops every expired entry, at most once per sweepEvery.
func (c *cache) sweepLocked(now int64) {
	if now-c.lastSweep < int64(sweepEvery) {
		return
	}
	c.lastSweep = now
	for k, id := range c.entries {
		if now >= id.expires {
			delete(c.entries, k)
		}
	}
}

// makeRoomLocked evicts, while the cache is full, the entry closest to
// expiry (an expired one if any) among a few taken in Go's random map
// order.
func (c *cache) makeRoomLocked() {
	for len(c.entries) >= c.max {
		victim, soonest, seen := "", int64(0), 0
		for k, id := range c.entries {
			if seen == 0 || id.expires < soonest {
				victim, soonest = k, id.expires
			}
			seen++
			if seen == evictionSample {
				break
			}
		}
		delete(c.entries, victim)
	}
}

// cacheDropKeys removes every entry verified with one of the key ids in
// kids (and every one verified without a kid, which any of them may have
// verified), aliases included.
func cacheDropKeys(c *cache, kids map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, id := range c.entries {
		if id.kid != "" && (id.kid == "*" || kids[id.kid]) {
			delete(c.entries, k)
		}
	}
}

// size returns the number of entries, expired ones included.
func (c *cache) size() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
