package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
)

// Options are the benchmark's settings; cmd/bench sets them from flags.
type Options struct {
	// Conns is the number of keep-alive connections. Default 16.
	Conns int
	// Duration is each route's measuring time per round. Default 10s.
	Duration time.Duration
	// Warmup runs before each measurement, not counted. Default 1s.
	Warmup time.Duration
	// Rounds is how many times every route is measured, interleaved. Default 3.
	Rounds int
	// Sessions is the number of distinct sessions sent through route 3 (the
	// memory probe, then cycled during its measurements). Default 100000.
	Sessions int
	// CacheEntries is route 3's CacheMaxEntries. Default 10000 (the plugin's default).
	CacheEntries int
	// Pprof serves Traefik's /debug/pprof (and logs its URL). Default false.
	Pprof bool
	// Note is added to RESULTS.md under the machine description. Default "".
	Note string
}

// DefaultOptions holds every default.
func DefaultOptions() Options {
	return Options{Conns: 16, Duration: 10 * time.Second, Warmup: time.Second, Rounds: 3,
		Sessions: 100000, CacheEntries: 10000}
}

// validate reports every problem at once.
func (o Options) validate() error {
	var problems []string
	if o.Conns < 1 {
		problems = append(problems, "conns must be at least 1")
	}
	if o.Duration < 100*time.Millisecond {
		problems = append(problems, "duration must be at least 100ms")
	}
	if o.Warmup < 0 {
		problems = append(problems, "warmup must not be negative")
	}
	if o.Rounds < 1 {
		problems = append(problems, "rounds must be at least 1")
	}
	if o.CacheEntries < 1 || o.Sessions <= o.CacheEntries {
		problems = append(problems, "sessions must exceed cache entries, and cache entries be at least 1")
	}
	if len(problems) > 0 {
		return fmt.Errorf("bench: invalid options: %v", problems)
	}
	return nil
}

// Run starts the rig, checks it, probes memory, measures the routes and
// returns the results. Logs and generated files go to runDir.
func Run(ctx context.Context, paths harness.Paths, runDir string, o Options, log *slog.Logger) (*Results, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(paths.Traefik()); err != nil {
		return nil, fmt.Errorf("bench: %s is missing: run `make go-tools` in %s", paths.Traefik(), paths.Root)
	}
	res := &Results{Options: o, Machine: describeMachine(paths.Traefik(), harness.TraefikVersion)}
	r, err := startRig(ctx, paths, runDir, o, log)
	if err != nil {
		return nil, err
	}
	defer r.stop()
	if r.pprof != "" {
		log.Info("traefik pprof", "url", r.pprof)
	}
	log.Info("sanity checks")
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	if res.Memory, err = r.probeMemory(ctx, o, log); err != nil {
		return nil, err
	}
	if res.Routes, err = r.measure(ctx, o, log); err != nil {
		return nil, err
	}
	res.Machine.LoadAfter = loadAverage()
	return res, nil
}
