package bench

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/plexgate/plexgate/e2e/harness"
)

// memoryCheckpoints is how many RSS readings the memory probe takes.
const memoryCheckpoints = 4

// warmRequests is how many requests warm each route before the first RSS reading.
const warmRequests = 2000

// MemoryResult is Traefik's resident memory while distinct sessions go
// through route 3.
type MemoryResult struct {
	// CacheEntries is route 3's CacheMaxEntries; Sessions how many distinct
	// sessions were sent, each once.
	CacheEntries, Sessions int
	// TokenBytes is the mean session token length.
	TokenBytes int
	// BeforeKiB is VmRSS after the sanity checks and a short warmup.
	BeforeKiB int64
	// Points are VmRSS readings after each batch of sessions.
	Points []MemoryPoint
	// Non200 counts answers other than 200 (there should be none).
	Non200 int
}

// MemoryPoint is VmRSS after Sessions sessions.
type MemoryPoint struct {
	Sessions int
	RSSKiB   int64
}

// probeMemory warms every route, reads VmRSS, then sends every distinct
// session once through route 3 in memoryCheckpoints batches, reading VmRSS
// after each.
func (r *rig) probeMemory(ctx context.Context, o Options, log *slog.Logger) (MemoryResult, error) {
	res := MemoryResult{CacheEntries: o.CacheEntries, Sessions: len(r.misses)}
	for _, t := range r.misses {
		res.TokenBytes += len(t)
	}
	res.TokenBytes /= max(len(r.misses), 1)
	if err := r.warm(ctx, o); err != nil {
		return res, err
	}
	pid := r.traefik.Process().Pid()
	var err error
	if res.BeforeKiB, err = rssKiB(pid); err != nil {
		return res, err
	}
	log.Info("memory probe", "rss_kib", res.BeforeKiB, "sessions", res.Sessions, "cache_entries", res.CacheEntries)
	batch := (len(r.misses) + memoryCheckpoints - 1) / memoryCheckpoints
	for sent := 0; sent < len(r.misses); sent += batch {
		chunk := r.misses[sent:min(sent+batch, len(r.misses))]
		s, err := Load{Addr: r.addr, Host: Routes[2].Host(), Cookie: harness.CookieName, Tokens: chunk,
			Conns: o.Conns, Requests: len(chunk)}.Run(ctx)
		if err != nil {
			return res, err
		}
		if s.Errors > 0 {
			return res, fmt.Errorf("bench: memory probe: %d connections failed, first: %w", s.Errors, s.FirstError)
		}
		res.Non200 += s.Non200
		kib, err := rssKiB(pid)
		if err != nil {
			return res, err
		}
		res.Points = append(res.Points, MemoryPoint{Sessions: sent + len(chunk), RSSKiB: kib})
		log.Info("memory probe", "sessions", sent+len(chunk), "rss_kib", kib, "rps", int(s.RPS()))
	}
	return res, nil
}

// warm sends warmRequests requests with the hit session through every route.
func (r *rig) warm(ctx context.Context, o Options) error {
	for _, rt := range Routes {
		l := r.tokens(rt)
		l.Conns, l.Requests = o.Conns, warmRequests
		s, err := l.Run(ctx)
		if err != nil {
			return err
		}
		if s.Errors > 0 {
			return fmt.Errorf("bench: warmup of route %d: %w", rt.ID, s.FirstError)
		}
	}
	return nil
}
