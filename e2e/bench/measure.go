package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
)

// Measurement is one route's figures in one round.
type Measurement struct {
	// RPS is requests per second; P50 and P99 latency quantiles.
	RPS      float64
	P50, P99 time.Duration
	// Requests, Non200 and Errors are as in Sample.
	Requests, Non200, Errors int
	// CPU is the CPU time per request (Sample.CPUPerRequest).
	CPU CPUTimes
	// ValidateCalls is how many /validate calls forwardauth counted during
	// the measurement, warmup included.
	ValidateCalls int
}

// RouteResult is one route's measurements, one per round.
type RouteResult struct {
	Route  Route
	Rounds []Measurement
}

// measure runs Rounds rounds over the routes, each round in its own
// order (see roundOrder).
func (r *rig) measure(ctx context.Context, o Options, log *slog.Logger) ([]RouteResult, error) {
	out := make([]RouteResult, len(Routes))
	for i, rt := range Routes {
		out[i].Route = rt
	}
	for round := 0; round < o.Rounds; round++ {
		for _, i := range roundOrder(round, len(Routes)) {
			m, err := r.measureRoute(ctx, Routes[i], o, round, log)
			if err != nil {
				return nil, err
			}
			out[i].Rounds = append(out[i].Rounds, m)
		}
	}
	return out, nil
}

// measureRoute measures route rt once (profiling it in the first round
// when Traefik serves pprof).
func (r *rig) measureRoute(ctx context.Context, rt Route, o Options, round int, log *slog.Logger) (Measurement, error) {
	wait := func() error { return nil }
	if round == 0 {
		wait = r.profileRoute(ctx, rt, o)
	}
	log.Info("measuring", "round", round+1, "route", rt.ID, "name", rt.Name)
	before, err := r.validateCalls(ctx)
	if err != nil {
		return Measurement{}, err
	}
	s, err := r.load(rt, o, round).Run(ctx)
	if perr := wait(); err == nil {
		err = perr
	}
	if err != nil {
		return Measurement{}, err
	}
	if s.Errors > 0 {
		return Measurement{}, fmt.Errorf("bench: route %d: %d connections failed, first: %w", rt.ID, s.Errors, s.FirstError)
	}
	after, err := r.validateCalls(ctx)
	if err != nil {
		return Measurement{}, err
	}
	m := Measurement{RPS: s.RPS(), P50: s.Percentile(0.50), P99: s.Percentile(0.99), Requests: s.Requests,
		Non200: s.Non200, Errors: s.Errors, CPU: s.CPUPerRequest(), ValidateCalls: int(after - before)}
	log.Info("measured", "round", round+1, "route", rt.ID, "name", rt.Name, "rps", int(m.RPS), "p50", m.P50,
		"p99", m.P99, "non200", m.Non200, "validate_calls", m.ValidateCalls,
		"traefik_cpu_per_req", m.CPU.Traefik, "total_cpu_per_req", m.CPU.Total)
	return m, nil
}

// validateCalls reads forwardauth's count of /validate calls.
func (r *rig) validateCalls(ctx context.Context) (float64, error) {
	m, err := harness.ReadMetrics(ctx, r.forwardauth.URL+"/metrics")
	if err != nil {
		return 0, err
	}
	return m.ValidateCalls(), nil
}

// roundOrder is the order of the routes in a round: the first round in
// the order, later ones shuffled with the round number as seed, so
// that no route always runs first or right after the same route (a route
// after route 3 inherits its garbage-collection work).
func roundOrder(round, n int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if round > 0 {
		rng := rand.New(rand.NewPCG(uint64(round), 0x706c6578))
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	return order
}

// load is route rt's measurement: route 3 cycles the distinct sessions,
// route 10 the hit session with a session to refresh every refreshEvery
// (new ones each round),
// routes 8 and 9 send the Plex token, every other route the hit session.
func (r *rig) load(rt Route, o Options, round int) Load {
	l := r.tokens(rt)
	switch rt.ID {
	case 3:
		l.Tokens = r.misses
	case 10:
		// Each round its own sessions to refresh: one refreshed in an
		// earlier round is a cache hit now.
		part := len(r.refreshes) / o.Rounds
		l.Tokens = r.refreshes[round*part : (round+1)*part]
	}
	l.Conns, l.Warmup, l.Duration = o.Conns, o.Warmup, o.Duration
	l.CPU = cpuMeter(r.traefik.Process().Pid(), r.forwardauth.Process().Pid())
	return l
}

// tokens is a Load of route rt carrying its one hit credential: the hit
// session in the cookie, or the Plex token where the route puts it.
func (r *rig) tokens(rt Route) Load {
	l := Load{Addr: r.addr, Host: rt.Host(), Cookie: harness.CookieName, Tokens: []string{r.hit}}
	switch rt.Plex {
	case "header":
		l.Tokens, l.Header = []string{r.plexToken}, "X-Plex-Token"
	case "query":
		l.Tokens, l.Path, l.Query = []string{r.plexToken}, "/", plexWebQuery
	}
	return l
}
