package benchreport

import (
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchproc"
)

// WriteChart draws throughput against value size as a hand-written SVG: one
// panel per /provider and /op of the benchmarks named name (e.g.
// "Transform"), one line per /impl, the median B/s of each cell. Both axes
// are logarithmic; each panel's throughput axis spans the decades of its own
// data. Sizes are read from /size values such as 256B, 4KiB or 1MiB.
func WriteChart(w io.Writer, s *Set, name, title string) error {
	filter, err := benchproc.NewFilter(".name:" + name)
	if err != nil {
		return err
	}
	var parser benchproc.ProjectionParser
	proj, err := parser.Parse("/provider,/op,/size,/impl", filter)
	if err != nil {
		return err
	}
	fields := proj.Fields()
	type point struct{ panel, impl, size string }
	vals := map[point][]float64{}
	var panels, implNames []string
	var sizeNames []string
	for _, r := range s.Results {
		if ok, _ := filter.Apply(r); !ok {
			continue
		}
		k := proj.Project(r)
		prov, op, size, im := k.Get(fields[0]), k.Get(fields[1]), k.Get(fields[2]), k.Get(fields[3])
		if _, ok := parseSize(size); !ok || prov == "" || im == "" {
			continue
		}
		for _, v := range r.Values {
			if v.Unit != "B/s" {
				continue
			}
			p := point{prov + " " + op, im, size}
			vals[p] = append(vals[p], v.Value)
		}
		panel := prov + " " + op
		if !slices.Contains(panels, panel) {
			panels = append(panels, panel)
		}
		if !slices.Contains(implNames, im) {
			implNames = append(implNames, im)
		}
		if !slices.Contains(sizeNames, size) {
			sizeNames = append(sizeNames, size)
		}
	}
	if len(vals) == 0 {
		return fmt.Errorf("benchreport: chart: no B/s results for %s with /provider, /op, /size and /impl", name)
	}
	slices.SortFunc(sizeNames, func(a, b string) int { x, _ := parseSize(a); y, _ := parseSize(b); return x - y })

	med := map[point]float64{}
	// Each panel gets the decades of MB/s that cover its own data: one shared
	// scale would be dominated by identity, which the apiserver reads without
	// copying (terabytes per second at 1MiB).
	type span struct{ lo, hi float64 }
	spans := map[string]span{}
	for p, v := range vals {
		m := benchmath.AssumeNothing.Summary(benchmath.NewSample(v, &benchmath.DefaultThresholds), 0.95).Center
		if m <= 0 {
			continue
		}
		med[p] = m
		sp, ok := spans[p.panel]
		if !ok {
			sp = span{math.Inf(1), math.Inf(-1)}
		}
		spans[p.panel] = span{min(sp.lo, m), max(sp.hi, m)}
	}
	decades := func(panel string) (dlo, dhi float64) {
		sp, ok := spans[panel]
		if !ok {
			return 0, 1
		}
		dlo, dhi = math.Floor(math.Log10(sp.lo/1e6)), math.Ceil(math.Log10(sp.hi/1e6))
		if dhi == dlo {
			dhi++
		}
		return dlo, dhi
	}
	smin, _ := parseSize(sizeNames[0])
	smax, _ := parseSize(sizeNames[len(sizeNames)-1])

	const (
		pw, ph   = 330, 210 // plot area of a panel
		ml, mt   = 62, 30   // panel margins: left (y labels), top (title)
		mr, mb   = 16, 36   // right, bottom (x labels)
		cols     = 2
		legendH  = 28
		titleH   = 34
		fontSize = 11
	)
	rows := (len(panels) + cols - 1) / cols
	W := cols * (ml + pw + mr)
	H := titleH + legendH + rows*(mt+ph+mb)
	palette := []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="%d">`+"\n", W, H, W, H, fontSize)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", W, H)
	fmt.Fprintf(&b, `<text x="%d" y="22" text-anchor="middle" font-size="15" font-weight="bold">%s</text>`+"\n", W/2, html.EscapeString(title))
	// Legend.
	x := 20
	for i, im := range implNames {
		c := palette[i%len(palette)]
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2.5"/><circle cx="%d" cy="%d" r="3" fill="%s"/>`,
			x, titleH+10, x+24, titleH+10, c, x+12, titleH+10, c)
		fmt.Fprintf(&b, `<text x="%d" y="%d">impl=%s</text>`+"\n", x+30, titleH+14, html.EscapeString(im))
		x += 40 + 8*len("impl="+im)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="#555">throughput, MB/s (median), log scale</text>`+"\n", W-20, titleH+14)

	for pi, panel := range panels {
		ox := (pi%cols)*(ml+pw+mr) + ml
		oy := titleH + legendH + (pi/cols)*(mt+ph+mb) + mt
		xpos := func(n int) float64 {
			if smax == smin {
				return float64(ox) + pw/2
			}
			return float64(ox) + pw*(math.Log2(float64(n))-math.Log2(float64(smin)))/(math.Log2(float64(smax))-math.Log2(float64(smin)))
		}
		dlo, dhi := decades(panel)
		ypos := func(bps float64) float64 {
			return float64(oy) + ph*(1-(math.Log10(bps/1e6)-dlo)/(dhi-dlo))
		}
		fmt.Fprintf(&b, `<g><text x="%d" y="%d" text-anchor="middle" font-weight="bold">%s</text>`+"\n", ox+pw/2, oy-10, html.EscapeString(panel))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", ox, oy, pw, ph)
		for d := dlo; d <= dhi; d++ {
			y := ypos(math.Pow(10, d) * 1e6)
			fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n",
				ox, y, ox+pw, y, ox-6, y+4, strconv.FormatFloat(math.Pow(10, d), 'f', -1, 64))
		}
		for _, sn := range sizeNames {
			n, _ := parseSize(sn)
			xx := xpos(n)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n",
				xx, oy, xx, oy+ph, xx, oy+ph+16, html.EscapeString(sn))
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#555">value size</text>`+"\n", ox+pw/2, oy+ph+30)
		for ii, im := range implNames {
			c := palette[ii%len(palette)]
			var pts []string
			for _, sn := range sizeNames {
				m, ok := med[point{panel, im, sn}]
				if !ok {
					continue
				}
				n, _ := parseSize(sn)
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", xpos(n), ypos(m)))
			}
			if len(pts) == 0 {
				continue
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", c, strings.Join(pts, " "))
			for _, p := range pts {
				xy := strings.Split(p, ",")
				fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="2.5" fill="%s"/>`, xy[0], xy[1], c)
			}
			b.WriteString("\n")
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// parseSize reads sizes like 256B, 1KiB, 64KiB, 1MiB, 2GiB.
func parseSize(s string) (int, bool) {
	mult := 1
	for _, u := range []struct {
		suffix string
		m      int
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n * mult, true
}
