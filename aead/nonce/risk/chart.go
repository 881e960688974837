package risk

import (
	"bufio"
	"fmt"
	"io"
	"math"
)

// Chart writes a self-contained SVG of simulated collision rates (points
// with Wilson intervals at quantile z) against the exact curves (solid) and
// the n²/2N approximation (dashed), one colour per width, with log2(writes)
// on the x axis.
func Chart(w io.Writer, sims []*Simulation, z float64) error {
	if len(sims) == 0 {
		return ErrSimulation
	}
	const (
		width, height        = 960, 540
		left, right, top, bo = 70, 170, 40, 60
	)
	minB, maxB := sims[0].Bits, sims[0].Bits
	for _, s := range sims {
		minB, maxB = min(minB, s.Bits), max(maxB, s.Bits)
	}
	x0 := math.Floor(float64(minB)/2 - 3)
	x1 := math.Ceil(float64(maxB)/2 + 2)
	px := func(l2n float64) float64 { return left + (l2n-x0)/(x1-x0)*(width-left-right) }
	py := func(p float64) float64 { return top + (1-p)*(height-top-bo) }
	colors := []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

	b := bufio.NewWriter(w)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(b, `<text x="%d" y="22" font-size="15">Nonce collisions: simulated (points, %.1f%% Wilson intervals) vs exact (solid) and n²/2N (dashed)</text>`+"\n",
		left, 100*(2*normalCDF(z)-1))
	// Axes and grid.
	for p := 0.0; p <= 1.0001; p += 0.1 {
		y := py(p)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`, left, y, width-right, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%.1f</text>`+"\n", left-6, y+4, p)
	}
	for l := x0; l <= x1; l++ {
		x := px(l)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>`, x, top, x, height-bo)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%g</text>`+"\n", x, height-bo+16, l)
	}
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="black"/>`+"\n", left, top, width-left-right, height-top-bo)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">log2(writes)</text>`+"\n", (width-right+left)/2, height-bo+38)
	fmt.Fprintf(b, `<text transform="translate(20 %d) rotate(-90)" text-anchor="middle">P(at least one collision)</text>`+"\n", (height-bo+top)/2)

	for i, s := range sims {
		c := colors[i%len(colors)]
		space := math.Ldexp(1, s.Bits)
		var exact, approx []byte
		for l := x0; l <= x1+1e-9; l += 1.0 / 32 {
			n := math.Exp2(l)
			exact = fmt.Appendf(exact, "%.1f,%.1f ", px(l), py(Collision(n, space)))
			if a := Approx(n, space); a <= 1 {
				approx = fmt.Appendf(approx, "%.1f,%.1f ", px(l), py(a))
			}
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", c, exact)
		if len(approx) > 0 {
			fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1" stroke-dasharray="4 3" points="%s"/>`+"\n", c, approx)
		}
		for l := x0; l <= x1+1e-9; l += 0.25 {
			n := math.Floor(math.Exp2(l))
			hits := s.Hits(n)
			lo, hi := Wilson(hits, s.Trials, z)
			x := px(l)
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, x, py(lo), x, py(hi), c)
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`+"\n", x, py(float64(hits)/float64(s.Trials)), c)
		}
		ly := top + 10 + 18*i
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/><text x="%d" y="%d">%d bits, %d trials</text>`+"\n",
			width-right+10, ly, width-right+30, ly, c, width-right+36, ly+4, s.Bits, s.Trials)
	}
	fmt.Fprintln(b, "</svg>")
	return b.Flush()
}

func normalCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }
