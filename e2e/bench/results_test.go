package bench

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// fakeResults has the given mean req/s per route (two rounds around it);
// routes not given run at 0.97× route 1 (route 7, the empty Yaegi plugin)
// or 0.95× route 2 (routes 8 and 9, the Plex token hits).
func fakeResults(rps []float64, mem MemoryResult) *Results {
	res := &Results{Options: DefaultOptions(), Memory: mem, Machine: Machine{CPUs: 2, Traefik: "v3.6.12"}}
	for i, r := range Routes {
		v := rps[0] * 0.97
		if r.Plex != "" {
			v = rps[1] * 0.95
		}
		if i < len(rps) {
			v = rps[i]
		}
		res.Routes = append(res.Routes, RouteResult{Route: r, Rounds: []Measurement{
			{RPS: v - 10, P50: time.Millisecond, P99: 3 * time.Millisecond},
			{RPS: v + 10, P50: 2 * time.Millisecond, P99: 5 * time.Millisecond},
		}})
	}
	return res
}

func boundedMemory() MemoryResult {
	return MemoryResult{CacheEntries: 10, Sessions: 100, TokenBytes: 1024, BeforeKiB: 1000,
		Points: []MemoryPoint{{25, 1200}, {50, 1300}, {75, 1302}, {100, 1301}}}
}

func TestTargetsCompareRoutesOfTheSameRun(t *testing.T) {
	tests := []struct {
		name string
		rps  []float64
		mem  MemoryResult
		want [6]bool // in Targets' order: routes 2/1, 2/6, 4/1, 8/2, 9/2, memory
	}{
		{"all met", []float64{1000, 960, 300, 950, 200, 300}, boundedMemory(), [6]bool{true, true, true, true, true, true}},
		{"hit too slow", []float64{1000, 900, 300, 950, 200, 300}, boundedMemory(), [6]bool{false, true, true, true, true, true}},
		{"floor too close", []float64{1000, 960, 300, 950, 200, 400}, boundedMemory(), [6]bool{true, false, true, true, true, true}},
		{"delegate too slow", []float64{1000, 960, 300, 850, 200, 300}, boundedMemory(), [6]bool{true, true, false, true, true, true}},
		{"Plex token hits too slow", []float64{1000, 960, 300, 950, 200, 300, 970, 850, 700}, boundedMemory(),
			[6]bool{true, true, true, false, false, true}},
		{"memory keeps growing", []float64{1000, 960, 300, 950, 200, 300},
			MemoryResult{TokenBytes: 1024, Points: []MemoryPoint{{25, 1200}, {50, 1300}, {75, 1325}, {100, 1350}}},
			[6]bool{true, true, true, true, true, false}},
		{"memory not measured", []float64{1000, 960, 300, 950, 200, 300}, MemoryResult{}, [6]bool{true, true, true, true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			targets := fakeResults(tt.rps, tt.mem).Targets()
			for i, target := range targets {
				if target.Met != tt.want[i] {
					t.Errorf("%s: met %t (got %s), want %t", target.What, target.Met, target.Got, tt.want[i])
				}
			}
		})
	}
}

func TestRouteAggregates(t *testing.T) {
	rr := RouteResult{Rounds: []Measurement{{RPS: 100, P99: 9}, {RPS: 200, P99: 1}, {RPS: 300, P99: 5}}}
	if rr.RPS() != 200 || rr.P99() != 5 {
		t.Errorf("RPS %g, P99 %d; want the mean 200 and the median 5", rr.RPS(), rr.P99())
	}
}

func TestMarkdownHasOneRowPerRouteAndTheTargets(t *testing.T) {
	var b bytes.Buffer
	res := fakeResults([]float64{1000, 960, 300, 950, 200, 300}, boundedMemory())
	if err := res.WriteMarkdown(&b, "chart.svg"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"](chart.svg)", "| 2 | plugin, cache hit | 960 | 1.500 ms | 4.000 ms | 0.96 | 3.20 | 0 | 0 |",
		"| route 2 / route 6 (plugin hit vs forwardAuth floor) | ≥ 2.70× | 3.20× | yes |", "| 100 | 1.3 MiB | +0.3 MiB |"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func TestChartIsWellFormedSVGWithABarPerRoute(t *testing.T) {
	var b bytes.Buffer
	if err := fakeResults([]float64{1000, 960, 300, 950, 200, 300}, boundedMemory()).WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&b)
	rects := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "rect" {
			rects++
		}
	}
	if rects != 1+len(Routes) {
		t.Errorf("got %d rects, want a background and %d bars", rects, len(Routes))
	}
}

func TestOptionsValidateReportsEveryProblem(t *testing.T) {
	o := Options{Conns: 0, Duration: time.Millisecond, Warmup: -1, Rounds: 0, Sessions: 5, CacheEntries: 10}
	err := o.validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"conns", "duration", "warmup", "rounds", "sessions"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q not named in %v", want, err)
		}
	}
	if err := DefaultOptions().validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestCPURatioIsTheInverseRatioOfCostPerRequest(t *testing.T) {
	res := fakeResults([]float64{1000, 960, 300, 950, 200, 300}, boundedMemory())
	costs := []time.Duration{40, 43, 100, 42, 150, 120, 41, 45, 46, 60} // µs of CPU per request, route 1 … 10
	for i := range res.Routes {
		for j := range res.Routes[i].Rounds {
			res.Routes[i].Rounds[j].CPU = CPUTimes{Traefik: costs[i] / 2 * time.Microsecond, Total: costs[i] * time.Microsecond}
		}
	}
	tests := []struct {
		id, to int
		want   float64
	}{{2, 1, 40.0 / 43}, {2, 6, 120.0 / 43}, {6, 6, 1}, {5, 1, 40.0 / 150}}
	for _, tt := range tests {
		if got := res.CPURatio(tt.id, tt.to); got < tt.want-1e-9 || got > tt.want+1e-9 {
			t.Errorf("CPURatio(%d, %d) = %g, want %g", tt.id, tt.to, got, tt.want)
		}
	}
	targets := res.Targets()
	if targets[0].MetByCPU || !targets[1].MetByCPU || targets[0].ByCPU != "0.93×" {
		t.Errorf("targets by CPU: %+v", targets)
	}
}

func TestMarkdownWarnsWhenTheMachineWasBusy(t *testing.T) {
	tests := []struct {
		before, after string
		warn          bool
	}{{"0.20 0.30 0.40", "2.90 0.50 0.40", false}, {"3.10 2.00 1.00", "0.90 0.50 0.40", true}, {"1.50 0.30 0.40", "1.50 0.50 0.40", true}}
	for _, tt := range tests {
		res := fakeResults([]float64{1000, 960, 300, 950, 200, 300}, boundedMemory())
		res.Machine.LoadBefore, res.Machine.LoadAfter = tt.before, tt.after
		var b bytes.Buffer
		if err := res.WriteMarkdown(&b, "chart.svg"); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), "**Measured on a busy machine**"); got != tt.warn {
			t.Errorf("load %s / %s: warning %t, want %t", tt.before, tt.after, got, tt.warn)
		}
	}
}

func TestEveryRoundVisitsEveryRouteOnceAndLaterRoundsDiffer(t *testing.T) {
	first := roundOrder(0, 7)
	for i, r := range first {
		if r != i {
			t.Fatalf("round 1 order %v, want the issue's order", first)
		}
	}
	predecessors := map[int]map[int]bool{}
	for round := 0; round < 3; round++ {
		order := roundOrder(round, 7)
		seen := map[int]bool{}
		for k, r := range order {
			seen[r] = true
			if k > 0 {
				if predecessors[r] == nil {
					predecessors[r] = map[int]bool{}
				}
				predecessors[r][order[k-1]] = true
			}
		}
		if len(seen) != 7 {
			t.Errorf("round %d order %v does not visit every route once", round+1, order)
		}
	}
	if len(predecessors[3]) < 2 {
		t.Errorf("route 4 always follows the same route: %v", predecessors[3])
	}
}

func TestLimitsSplitTheHitCost(t *testing.T) {
	res := fakeResults([]float64{1000, 960, 300, 950, 200, 300}, boundedMemory())
	costs := []time.Duration{100, 130, 400, 130, 300, 230, 104, 135, 140, 160}
	for i := range res.Routes {
		for j := range res.Routes[i].Rounds {
			res.Routes[i].Rounds[j].CPU = CPUTimes{Traefik: costs[i] * time.Microsecond, Total: costs[i] * time.Microsecond}
		}
	}
	var b bytes.Buffer
	if err := res.WriteMarkdown(&b, "chart.svg"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"costs 104.0 µs per request against 100.0 µs without one (+4%)",
		"route 2 costs 26.0 µs more than the empty plugin (+26% of route 1)", "route 6 costs 2.30× route 1",
		"cheaper than 85.2 µs, i.e. cheaper than no authentication at all"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
}

func TestPctNeverPrintsMinusZero(t *testing.T) {
	tests := []struct {
		a, b time.Duration
		want string
	}{{1841, 1846, "+0"}, {1846, 1841, "+0"}, {1300, 1000, "+30"}, {900, 1000, "-10"}}
	for _, tt := range tests {
		if got := fmt.Sprintf("%+.0f", pct(tt.a, tt.b)); got != tt.want {
			t.Errorf("pct(%d, %d) prints %s, want %s", tt.a, tt.b, got, tt.want)
		}
	}
}
