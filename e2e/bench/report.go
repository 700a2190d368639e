package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// WriteMarkdown writes RESULTS.md: the machine, the table, the rounds, the
// memory probe and the targets. chart is the chart's file name, linked.
func (res *Results) WriteMarkdown(w io.Writer, chart string) error {
	var b strings.Builder
	res.writeHeader(&b, chart)
	res.writeTable(&b)
	res.writeCPU(&b)
	res.writeRounds(&b)
	res.writeMemory(&b)
	res.writeTargets(&b)
	res.writeLimits(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func (res *Results) writeHeader(b *strings.Builder, chart string) {
	m, o := res.Machine, res.Options
	fmt.Fprintf(b, "# plexgate benchmark results\n\n")
	fmt.Fprintf(b, "Written by `make bench` (`go run ./cmd/bench` in `e2e/`); see [README.md](README.md) for the method.\n\n")
	fmt.Fprintf(b, "![req/s per route](%s)\n\n", chart)
	fmt.Fprintf(b, "| | |\n|---|---|\n")
	fmt.Fprintf(b, "| machine | %d CPUs (nproc), %s |\n", m.CPUs, m.CPUModel)
	fmt.Fprintf(b, "| load average (1, 5, 15 min) | before %s, after %s (the benchmark itself keeps about 2 busy) |\n",
		m.LoadBefore, m.LoadAfter)
	fmt.Fprintf(b, "| Go | %s (bench), %s (Traefik) |\n", m.GoVersion, m.TraefikGo)
	fmt.Fprintf(b, "| Traefik | %s, plain HTTP entrypoint on 127.0.0.1, no access log, log level ERROR |\n", m.Traefik)
	fmt.Fprintf(b, "| load | %d keep-alive HTTP/1.1 connections, %d rounds × %d routes × %s (after %s warmup each), routes interleaved |\n",
		o.Conns, o.Rounds, len(res.Routes), o.Duration, o.Warmup)
	fmt.Fprintf(b, "| route 3 | %d distinct sessions cycled, CacheMaxEntries %d |\n", o.Sessions, o.CacheEntries)
	if o.Note != "" {
		fmt.Fprintf(b, "| note | %s |\n", o.Note)
	}
	b.WriteString("\n")
	if busy(m.LoadBefore) {
		fmt.Fprintf(b, "**Measured on a busy machine**: the 1-minute load average was %s before the run "+
			"(quiet means below %.1f on %d CPUs). Other work took CPU time in bursts, so req/s and their ratios drift "+
			"from round to round; the CPU time per request below is the steadier figure.\n\n",
			firstField(m.LoadBefore), quietLoad, m.CPUs)
	}
}

// quietLoad is the 1-minute load average under which a run counts as quiet.
const quietLoad = 1.5

// busy reports whether a /proc/loadavg triple's first figure is quietLoad or more.
func busy(loadavg string) bool {
	v, err := strconv.ParseFloat(firstField(loadavg), 64)
	return err == nil && v >= quietLoad
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

func (res *Results) writeTable(b *strings.Builder) {
	b.WriteString("## Throughput and latency\n\n")
	b.WriteString("req/s is the mean over rounds; p50 and p99 the median over rounds of each round's quantile.\n\n")
	b.WriteString("/validate calls: counted by forwardauth over every round of the route, warmups included.\n\n")
	b.WriteString("| # | route | req/s | p50 | p99 | × route 1 | × route 6 | non-200 | /validate calls |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, rr := range res.Routes {
		fmt.Fprintf(b, "| %d | %s | %.0f | %s | %s | %.2f | %.2f | %d | %d |\n", rr.Route.ID, rr.Route.What,
			rr.RPS(), ms(rr.P50()), ms(rr.P99()), res.Ratio(rr.Route.ID, 1), res.Ratio(rr.Route.ID, 6), rr.Non200(),
			rr.ValidateCalls())
	}
	b.WriteString("\n")
}

func (res *Results) writeCPU(b *strings.Builder) {
	b.WriteString("## CPU time per request\n\n")
	b.WriteString("CPU time (user + system) spent during each measuring window divided by the requests answered in it, " +
		"median over rounds: Traefik alone, and all processes of the benchmark (Traefik, forwardauth, and the program " +
		"with the load generator, the upstream and the null server). Other processes on the machine do not count, so " +
		"these figures are steadier than req/s on a busy machine; the ratios are the throughput ratios a machine that " +
		"runs nothing else and is limited by CPU would show.\n\n")
	b.WriteString("| # | route | Traefik CPU/req | all CPU/req | × route 1 | × route 6 |\n|---|---|---:|---:|---:|---:|\n")
	for _, rr := range res.Routes {
		c := rr.CPU()
		fmt.Fprintf(b, "| %d | %s | %s | %s | %.2f | %.2f |\n", rr.Route.ID, rr.Route.What, us(c.Traefik), us(c.Total),
			res.CPURatio(rr.Route.ID, 1), res.CPURatio(rr.Route.ID, 6))
	}
	b.WriteString("\n")
}

func (res *Results) writeRounds(b *strings.Builder) {
	b.WriteString("## Every round (req/s), to show drift\n\n| # | route |")
	rounds := len(res.Routes[0].Rounds)
	for i := 1; i <= rounds; i++ {
		fmt.Fprintf(b, " round %d |", i)
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---:|", rounds) + "\n")
	for _, rr := range res.Routes {
		fmt.Fprintf(b, "| %d | %s |", rr.Route.ID, rr.Route.Name)
		for _, m := range rr.Rounds {
			fmt.Fprintf(b, " %.0f |", m.RPS)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

func (res *Results) writeMemory(b *strings.Builder) {
	m := res.Memory
	b.WriteString("## Traefik resident memory (VmRSS)\n\n")
	fmt.Fprintf(b, "%d distinct sessions (tokens of %d bytes on average), each sent once through route 3 (CacheMaxEntries %d).\n\n",
		m.Sessions, m.TokenBytes, m.CacheEntries)
	b.WriteString("| sessions sent | VmRSS | growth |\n|---:|---:|---:|\n")
	fmt.Fprintf(b, "| 0 | %s | |\n", mib(m.BeforeKiB))
	for _, p := range m.Points {
		fmt.Fprintf(b, "| %d | %s | %+.1f MiB |\n", p.Sessions, mib(p.RSSKiB), float64(p.RSSKiB-m.BeforeKiB)/1024)
	}
	if m.Non200 > 0 {
		fmt.Fprintf(b, "\n%d of these requests were not answered 200.\n", m.Non200)
	}
	b.WriteString("\n")
}

func (res *Results) writeTargets(b *strings.Builder) {
	b.WriteString("## Targets\n\n| target | want | got (req/s) | met | by CPU time per request | met |\n|---|---|---|---|---|---|\n")
	for _, t := range res.Targets() {
		byCPU, metByCPU := t.ByCPU, yesNo(t.MetByCPU)
		if byCPU == "" {
			metByCPU = ""
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", t.What, t.Want, t.Got, yesNo(t.Met), byCPU, metByCPU)
	}
	b.WriteString("\n")
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

func us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// writeLimits says, from this run's CPU times, what limits the plugin-hit
// targets: the toll any Yaegi plugin pays (route 7 over route 1), the
// plugin's own work on a hit (route 2 over route 7), and how far the
// forwardAuth floor (route 6) lies from no authentication at all.
func (res *Results) writeLimits(b *strings.Builder) {
	c1, c2, c6, c7 := res.route(1).CPU().Total, res.route(2).CPU().Total, res.route(6).CPU().Total, res.route(7).CPU().Total
	if c1 == 0 || c2 == 0 || c6 == 0 || c7 == 0 {
		return
	}
	b.WriteString("## What limits it (from the CPU time per request above)\n\n")
	fmt.Fprintf(b, "- Any Yaegi plugin: the empty plugin (route 7) costs %s per request against %s without one (%+.0f%%): "+
		"Traefik's plugin machinery and Yaegi's call into interpreted code.\n", us(c7), us(c1), pct(c7, c1))
	fmt.Fprintf(b, "- plexgate's own work on a cache hit: route 2 costs %s more than the empty plugin (%+.0f%% of route 1); "+
		"a hit is interpreted code (identity-header stripping, cookie lookup, cache read, header setting) run by Yaegi.\n",
		us(c2-c7), pct(c1+c2-c7, c1))
	fmt.Fprintf(b, "- The forwardAuth floor: route 6 costs %.2f× route 1, so route 2 ≥ 2.7× route 6 would need a plugin hit "+
		"cheaper than %s, i.e. %s.\n\n", float64(c6)/float64(c1), us(time.Duration(float64(c6)/2.7)), cheaperThan(c6, c1))
}

// pct is how much a exceeds b, in percent, rounded so that it never
// prints as "-0".
func pct(a, b time.Duration) float64 { return math.Round((float64(a)/float64(b)-1)*100) + 0 }

func cheaperThan(c6, c1 time.Duration) string {
	if float64(c6)/2.7 < float64(c1) {
		return "cheaper than no authentication at all: out of reach for any gate on this machine"
	}
	return fmt.Sprintf("at most %+.0f%% over no authentication", (float64(c6)/2.7/float64(c1)-1)*100)
}
