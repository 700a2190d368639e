package bench

import (
	"fmt"
	"slices"
	"time"
)

// Results is everything one run measured.
type Results struct {
	Options Options
	Machine Machine
	Memory  MemoryResult
	Routes  []RouteResult
}

// RPS is the mean over rounds.
func (rr RouteResult) RPS() float64 {
	if len(rr.Rounds) == 0 {
		return 0
	}
	sum := 0.0
	for _, m := range rr.Rounds {
		sum += m.RPS
	}
	return sum / float64(len(rr.Rounds))
}

// P50 is the median over rounds of each round's p50.
func (rr RouteResult) P50() time.Duration {
	return medianOf(rr.Rounds, func(m Measurement) time.Duration { return m.P50 })
}

// P99 is the median over rounds of each round's p99.
func (rr RouteResult) P99() time.Duration {
	return medianOf(rr.Rounds, func(m Measurement) time.Duration { return m.P99 })
}

// CPU is the median over rounds of the CPU time per request.
func (rr RouteResult) CPU() CPUTimes {
	return CPUTimes{
		Traefik: medianOf(rr.Rounds, func(m Measurement) time.Duration { return m.CPU.Traefik }),
		Total:   medianOf(rr.Rounds, func(m Measurement) time.Duration { return m.CPU.Total }),
	}
}

// ValidateCalls adds up forwardauth's /validate calls over every round.
func (rr RouteResult) ValidateCalls() int {
	n := 0
	for _, m := range rr.Rounds {
		n += m.ValidateCalls
	}
	return n
}

// Non200 adds up the answers other than 200 over every round.
func (rr RouteResult) Non200() int {
	n := 0
	for _, m := range rr.Rounds {
		n += m.Non200
	}
	return n
}

func medianOf(ms []Measurement, f func(Measurement) time.Duration) time.Duration {
	if len(ms) == 0 {
		return 0
	}
	v := make([]time.Duration, len(ms))
	for i, m := range ms {
		v[i] = f(m)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// route returns the result of route id (1–6).
func (res *Results) route(id int) RouteResult {
	for _, rr := range res.Routes {
		if rr.Route.ID == id {
			return rr
		}
	}
	return RouteResult{}
}

// Ratio is route id's mean req/s over route to's.
func (res *Results) Ratio(id, to int) float64 {
	d := res.route(to).RPS()
	if d == 0 {
		return 0
	}
	return res.route(id).RPS() / d
}

// CPURatio is the CPU time per request (all processes) of route to over
// route id's: the throughput ratio a machine running nothing else and
// limited by CPU would show.
func (res *Results) CPURatio(id, to int) float64 {
	d := res.route(id).CPU().Total
	if d == 0 {
		return 0
	}
	return float64(res.route(to).CPU().Total) / float64(d)
}

// Target is one of the targets and whether this run met it.
type Target struct {
	What, Want, Got string
	Met             bool
	// ByCPU is the same ratio from CPU time per request ("" when the
	// target is not a ratio); MetByCPU whether that meets it.
	ByCPU    string
	MetByCPU bool
}

// Targets checks the targets.
func (res *Results) Targets() []Target {
	ratio := func(what string, id, to int, want float64) Target {
		got, cpu := res.Ratio(id, to), res.CPURatio(id, to)
		return Target{What: what, Want: fmt.Sprintf("≥ %.2f×", want), Got: fmt.Sprintf("%.2f×", got), Met: got >= want,
			ByCPU: fmt.Sprintf("%.2f×", cpu), MetByCPU: cpu >= want}
	}
	bounded, got := res.Memory.Bounded()
	return []Target{
		ratio("route 2 / route 1 (plugin hit vs no auth)", 2, 1, 0.95),
		ratio("route 2 / route 6 (plugin hit vs forwardAuth floor)", 2, 6, 2.7),
		ratio("route 4 / route 1 (delegate mode vs no auth)", 4, 1, 0.9),
		ratio("route 8 / route 2 (Plex token hit, header, vs cookie hit)", 8, 2, 0.9),
		ratio("route 9 / route 2 (Plex token hit, query, vs cookie hit)", 9, 2, 0.9),
		{What: "Traefik RSS bounded by the cache size", Want: memoryRule, Got: got, Met: bounded},
	}
}

// memoryRule is how Bounded decides, for the report.
const memoryRule = "second-half growth < 10% of the second half's keys"

// Bounded reports whether RSS stopped growing once the cache was full: the
// growth between the middle and the last reading must stay under a tenth
// of what the keys alone of the sessions sent in between would take in an
// unbounded cache.
func (m MemoryResult) Bounded() (bool, string) {
	if len(m.Points) < 2 {
		return false, "not measured"
	}
	mid, last := m.Points[len(m.Points)/2-1], m.Points[len(m.Points)-1]
	growth := last.RSSKiB - mid.RSSKiB
	keys := int64(last.Sessions-mid.Sessions) * int64(m.TokenBytes) / 1024
	got := fmt.Sprintf("%+.1f MiB from %d to %d sessions (keys alone: %.1f MiB)",
		float64(growth)/1024, mid.Sessions, last.Sessions, float64(keys)/1024)
	return growth*10 < keys, got
}
