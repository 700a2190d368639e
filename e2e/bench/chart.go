package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Chart layout, in SVG user units.
const (
	chartWidth   = 1000
	chartLabelW  = 270
	chartBarMaxW = 380
	chartRowH    = 40
	chartTop     = 56
)

// WriteSVG draws one horizontal bar per route (mean req/s), a tick for
// every round, and the ratio to route 1 and the p99 beside each bar.
func (res *Results) WriteSVG(w io.Writer) error {
	top := 1.0
	for _, rr := range res.Routes {
		for _, m := range rr.Rounds {
			top = math.Max(top, m.RPS)
		}
	}
	height := chartTop + chartRowH*len(res.Routes) + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="24" font-size="16" font-weight="bold">%s</text>`+"\n",
		html.EscapeString(fmt.Sprintf("plexgate through Traefik %s: req/s per route (%d CPUs, %d connections)",
			res.Machine.Traefik, res.Machine.CPUs, res.Options.Conns)))
	fmt.Fprintf(&b, `<text x="10" y="42" fill="#555">%s</text>`+"\n",
		html.EscapeString(fmt.Sprintf("bar: mean of %d rounds; ticks: each round; load average before %s",
			res.Options.Rounds, res.Machine.LoadBefore)))
	for i, rr := range res.Routes {
		res.drawRow(&b, i, rr, top)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// barColors tells the kinds of gate apart: none, the plugin, forwardAuth.
var barColors = map[int]string{1: "#7f7f7f", 2: "#2a7fd4", 3: "#5fa8e8", 4: "#1f5f9f", 5: "#d9822b", 6: "#e8b070", 7: "#b8b8b8", 8: "#3f9f6f", 9: "#6fc79a"}

func (res *Results) drawRow(b *strings.Builder, i int, rr RouteResult, top float64) {
	y := chartTop + i*chartRowH
	scale := func(v float64) float64 { return v / top * chartBarMaxW }
	fmt.Fprintf(b, `<text x="10" y="%d">%s</text>`+"\n", y+20,
		html.EscapeString(fmt.Sprintf("%d. %s", rr.Route.ID, rr.Route.What)))
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="26" fill="%s"/>`+"\n",
		chartLabelW, y+4, scale(rr.RPS()), barColors[rr.Route.ID])
	right := rr.RPS()
	for _, m := range rr.Rounds {
		x := float64(chartLabelW) + scale(m.RPS)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" stroke-width="1.5"/>`+"\n", x, y+1, x, y+33)
		right = math.Max(right, m.RPS)
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d">%s</text>`+"\n", float64(chartLabelW)+scale(right)+8, y+21,
		html.EscapeString(fmt.Sprintf("%.0f/s · %.2f× r1 · p99 %s · %s CPU/req", rr.RPS(), res.Ratio(rr.Route.ID, 1),
			ms(rr.P99()), us(rr.CPU().Total))))
}
