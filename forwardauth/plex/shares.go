package plex

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// retryFailedLoad is how soon a failed shared_servers load may be retried
// (plex.tv's back-off applies on top).
const retryFailedLoad = 30 * time.Second

// shareBook keeps the owner's shared_servers list, indexed by the SHA-256
// of each share token and by account id. It is loaded on demand: when a
// lookup finds it older than the refresh interval (or never loaded), one
// caller reloads it and the others wait for that load.
type shareBook struct {
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger
	load     func(context.Context) ([]Share, error)

	mu        sync.Mutex
	byToken   map[[32]byte]Share // AccessToken cleared
	byUser    map[int64]Share
	loadedAt  time.Time // last successful load; zero: never
	failedAt  time.Time // last failed load
	inflight  chan struct{}
	lastError error
}

func newShareBook(interval time.Duration, now func() time.Time, log *slog.Logger, load func(context.Context) ([]Share, error)) *shareBook {
	return &shareBook{interval: interval, now: now, log: log, load: load}
}

// peek looks a token up without loading: only a fresh list answers.
func (b *shareBook) peek(key [32]byte) (Share, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.fresh() {
		return Share{}, false
	}
	s, ok := b.byToken[key]
	return s, ok
}

// token looks up a share token by its SHA-256, loading the list when due.
func (b *shareBook) token(ctx context.Context, key [32]byte) (Share, bool, error) {
	if err := b.ensure(ctx); err != nil {
		return Share{}, false, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.byToken[key]
	return s, ok, nil
}

// user looks up an account id, loading the list when due.
func (b *shareBook) user(ctx context.Context, id int64) (Share, bool, error) {
	if err := b.ensure(ctx); err != nil {
		return Share{}, false, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.byUser[id]
	return s, ok, nil
}

// fresh reports whether the list was loaded less than interval ago. b.mu held.
func (b *shareBook) fresh() bool {
	return !b.loadedAt.IsZero() && b.now().Sub(b.loadedAt) < b.interval
}

// ensure makes the list fresh, or returns ErrUnavailable. One load runs at a
// time; after a failure the next is tried no sooner than retryFailedLoad.
func (b *shareBook) ensure(ctx context.Context) error {
	for {
		b.mu.Lock()
		switch {
		case b.fresh():
			b.mu.Unlock()
			return nil
		case b.inflight != nil:
			wait := b.inflight
			b.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
			}
		case !b.failedAt.IsZero() && b.now().Sub(b.failedAt) < retryFailedLoad:
			err := b.lastError
			b.mu.Unlock()
			return err
		}
		done := make(chan struct{})
		b.inflight = done
		b.mu.Unlock()
		b.reload(ctx)
		close(done)
	}
}

// reload loads the list and records the outcome. It is not cancelled with
// the caller that started it: others may be waiting for it.
func (b *shareBook) reload(ctx context.Context) {
	shares, err := b.load(context.WithoutCancel(ctx))
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inflight = nil
	if err != nil {
		b.failedAt, b.lastError = b.now(), err
		b.log.Warn("plex: shared_servers not loaded", "err", err)
		return
	}
	b.byToken = make(map[[32]byte]Share, len(shares))
	b.byUser = make(map[int64]Share, len(shares))
	for _, s := range shares {
		tok := s.AccessToken
		s.AccessToken = ""
		if tok != "" {
			b.byToken[sha256.Sum256([]byte(tok))] = s
		}
		if s.UserID > 0 {
			b.byUser[s.UserID] = s
		}
	}
	b.loadedAt, b.failedAt, b.lastError = b.now(), time.Time{}, nil
	b.log.Info("plex: shared_servers loaded", "shares", len(shares))
}
