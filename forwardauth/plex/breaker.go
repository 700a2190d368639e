package plex

import (
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Back-off bounds after plex.tv or the Plex server answered 429, 5xx, or
// not at all: the first failure waits minBackoff, each further one twice as
// long, up to maxBackoff; a Retry-After is honoured up to maxRetryAfter.
const (
	minBackoff    = 2 * time.Second
	maxBackoff    = 2 * time.Minute
	maxRetryAfter = 10 * time.Minute
)

// breaker makes callers stop asking an upstream that is failing, for a
// growing while. While it is open, requests fail at once with ErrUnavailable.
// It logs when the upstream starts failing and when it answers again, not
// once per request.
type breaker struct {
	now  func() time.Time
	log  *slog.Logger
	name string // "plex.tv" or "the Plex server"

	mu    sync.Mutex
	until time.Time
	delay time.Duration
}

func newBreaker(name string, now func() time.Time, log *slog.Logger) *breaker {
	return &breaker{name: name, now: now, log: log}
}

// wait returns how long the breaker stays open (0: closed).
func (b *breaker) wait() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return max(b.until.Sub(b.now()), 0)
}

// fail opens the breaker for the next back-off step, or for retryAfter when longer.
func (b *breaker) fail(retryAfter time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.delay == 0 {
		b.log.Warn("plex: "+b.name+" is failing; new Plex tokens get 503 until it answers", "retry_after", retryAfter)
	}
	b.delay = min(max(2*b.delay, minBackoff), maxBackoff)
	d := max(b.delay, min(retryAfter, maxRetryAfter))
	b.until = b.now().Add(d)
}

// succeed closes the breaker and resets the back-off.
func (b *breaker) succeed() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.delay != 0 {
		b.log.Info("plex: " + b.name + " answers again")
	}
	b.delay, b.until = 0, time.Time{}
}

// retryAfter parses a Retry-After header given in seconds (0 otherwise).
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(min(n, int(maxRetryAfter/time.Second))) * time.Second
}
