package plex

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// verdictCache remembers verdicts by the SHA-256 of their token until each
// one's Until, holding at most max of them, and runs one verification per
// token at a time: callers asking about a token being verified wait for
// that verification instead of starting their own.
type verdictCache struct {
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[[32]byte]Verdict
	flights map[[32]byte]*flight
}

// flight is one verification in progress.
type flight struct {
	done chan struct{}
	v    Verdict
	err  error
}

func newVerdictCache(max int, now func() time.Time) *verdictCache {
	return &verdictCache{max: max, now: now, entries: map[[32]byte]Verdict{}, flights: map[[32]byte]*flight{}}
}

// get returns the cached verdict for key when it has not expired.
func (c *verdictCache) get(key [32]byte) (Verdict, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookup(key)
}

func (c *verdictCache) lookup(key [32]byte) (Verdict, bool) {
	v, ok := c.entries[key]
	if !ok || !c.now().Before(v.Until) {
		return Verdict{}, false
	}
	return v, true
}

// do returns the cached verdict for key, or runs verify once for all the
// callers asking at the same time and caches what it returns without error.
// verify gets a context that the first caller's cancellation does not end.
func (c *verdictCache) do(ctx context.Context, key [32]byte, verify func(context.Context) (Verdict, error)) (Verdict, error) {
	c.mu.Lock()
	if v, ok := c.lookup(key); ok {
		c.mu.Unlock()
		return v, nil
	}
	if f, ok := c.flights[key]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.v, f.err
		case <-ctx.Done():
			return Verdict{}, fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
		}
	}
	f := &flight{done: make(chan struct{})}
	c.flights[key] = f
	c.mu.Unlock()

	f.v, f.err = verify(context.WithoutCancel(ctx))
	c.mu.Lock()
	delete(c.flights, key)
	if f.err == nil {
		c.store(key, f.v)
	}
	c.mu.Unlock()
	close(f.done)
	return f.v, f.err
}

// store caches v, evicting expired entries, then arbitrary ones, when full. c.mu held.
func (c *verdictCache) store(key [32]byte, v Verdict) {
	if len(c.entries) >= c.max {
		now := c.now()
		for k, e := range c.entries {
			if !now.Before(e.Until) {
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
	c.entries[key] = v
}

// len returns the number of cached verdicts.
func (c *verdictCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
