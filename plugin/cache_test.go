package plugin

import (
	"fmt"
	"testing"
	"time"
)

// put caches id for key as the request path does, with times as time.Time;
// the zero exp means none.
func put(c *cache, key string, id *identity, exp, now time.Time) {
	var e int64
	if !exp.IsZero() {
		e = exp.UnixNano()
	}
	cachePut(c, key, id, e, now.UnixNano())
}

func cached(c *cache, key string, now time.Time) bool {
	return cacheGet(c, key, now.UnixNano()) != nil
}

func TestCacheNeverReturnsAnExpiredEntry(t *testing.T) {
	cases := []struct {
		name     string
		ttl      time.Duration
		exp      time.Time
		at       time.Duration // lookup time after testNow
		wantSeen bool
	}{
		{"within TTL and exp", 5 * time.Minute, testNow.Add(time.Hour), 4 * time.Minute, true},
		{"past TTL", 5 * time.Minute, testNow.Add(time.Hour), 5 * time.Minute, false},
		{"past exp before TTL", time.Hour, testNow.Add(time.Minute), time.Minute, false},
		{"just before exp", time.Hour, testNow.Add(time.Minute), time.Minute - time.Nanosecond, true},
		{"no exp: TTL only", time.Minute, time.Time{}, 59 * time.Second, true},
		{"already expired token is not stored", time.Hour, testNow.Add(-time.Second), 0, false},
		{"TTL 0 disables the cache", 0, testNow.Add(time.Hour), 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(10, tc.ttl)
			put(c, "tok", &identity{}, tc.exp, testNow)
			if got := cached(c, "tok", testNow.Add(tc.at)); got != tc.wantSeen {
				t.Fatalf("cached = %v, want %v", got, tc.wantSeen)
			}
		})
	}
}

func TestFullCacheEvictsExpiredEntriesFirst(t *testing.T) {
	c := newCache(4, time.Hour)
	put(c, "short-1", &identity{}, testNow.Add(time.Minute), testNow)
	put(c, "short-2", &identity{}, testNow.Add(time.Minute), testNow)
	put(c, "long-1", &identity{}, time.Time{}, testNow)
	put(c, "long-2", &identity{}, time.Time{}, testNow)
	later := testNow.Add(2 * time.Minute)
	put(c, "new-1", &identity{}, time.Time{}, later)
	put(c, "new-2", &identity{}, time.Time{}, later)
	for _, k := range []string{"long-1", "long-2", "new-1", "new-2"} {
		if !cached(c, k, later) {
			t.Errorf("%s was evicted while expired entries were present", k)
		}
	}
	if c.size() != 4 {
		t.Fatalf("size %d, want 4", c.size())
	}
}

func TestCacheStaysBounded(t *testing.T) {
	c := newCache(100, time.Hour)
	for i := 0; i < 1000; i++ {
		now := testNow.Add(time.Duration(i) * time.Millisecond)
		put(c, fmt.Sprintf("tok-%d", i), &identity{}, now.Add(time.Duration(i)*time.Second), now)
		if c.size() > 100 {
			t.Fatalf("size %d after %d puts", c.size(), i+1)
		}
	}
	if !cached(c, "tok-999", testNow.Add(time.Second)) {
		t.Fatal("the newest entry was evicted")
	}
}

func TestReplacingAnEntryInAFullCacheEvictsNothing(t *testing.T) {
	c := newCache(2, time.Hour)
	put(c, "a", &identity{}, time.Time{}, testNow)
	put(c, "b", &identity{}, time.Time{}, testNow)
	put(c, "a", &identity{}, time.Time{}, testNow)
	if !cached(c, "a", testNow) || !cached(c, "b", testNow) {
		t.Fatal("an entry was evicted on replace")
	}
}

func TestExpiredEntriesLeaveMemory(t *testing.T) {
	c := newCache(100, time.Hour)
	put(c, "presented-again", &identity{}, testNow.Add(time.Second), testNow)
	put(c, "never-again", &identity{}, testNow.Add(time.Second), testNow)
	later := testNow.Add(2 * time.Second)
	if cached(c, "presented-again", later) || c.size() != 1 {
		t.Fatalf("expired entry kept after lookup: size %d", c.size())
	}
	put(c, "other", &identity{}, time.Time{}, testNow.Add(sweepEvery+time.Second))
	if c.size() != 1 {
		t.Fatalf("expired entry kept after a sweep: size %d", c.size())
	}
}
