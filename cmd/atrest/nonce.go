package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/atrest-dev/atrest/aead/nonce"
)

func init() {
	register(command{
		name:    "nonce",
		summary: "nonce-collision risk per provider and strategy; --simulate checks the formulas",
		run:     runNonce,
	})
}

const nonceUsage = `[--provider P] [--writes N | --rate R [--lifetime D]] [--target T] [--simulate]

Prints, for each provider's nonce scheme and atrest's strategies, the exact
probability that n writes under one key repeat a nonce (or IV), the most
writes that keep it at or below --target, and how long a key lasts at
--rate. Without --writes or --rate it prints the three reference scenarios:
200,000 writes, 2^32 writes, and 100 writes/s for a year.

Numbers take the forms 200000, 2e5, 200k, 4M, 2^32, 2^-32. A rate is writes
per second (100 or 100/s; also /min, /h, /d). A lifetime is a Go duration or
a number with d, w or y (365.25 days).

--simulate runs the Monte-Carlo check of the formula with nonces truncated to
--widths bits and writes <out>/nonce-sim.svg and <out>/nonce-sim.txt.`

// nonceSchemes maps --provider to scheme names.
var nonceProviders = map[string][]string{
	"aesgcm":        {"aesgcm"},
	"secretbox":     {"secretbox"},
	"aescbc":        {"aescbc"},
	"kmsv2-counter": {"kmsv2-counter"},
	"kmsv2-xnonce":  {"kmsv2-xnonce", "kmsv2-xnonce-key"},
	"atrest":        {"atrest", "atrest-r32"},
}

func runNonce(ctx context.Context, args []string, sio stdio) error {
	fs := newFlags(sio, "nonce", nonceUsage)
	provider := fs.String("provider", "all", "aesgcm|secretbox|aescbc|kmsv2-counter|kmsv2-xnonce|atrest|all")
	writesS := fs.String("writes", "", "writes under one key")
	rateS := fs.String("rate", "", "writes per second (for key lifetimes; with --lifetime, gives the writes)")
	lifeS := fs.String("lifetime", "", "key lifetime, with --rate (e.g. 1y, 90d, 720h)")
	targetS := fs.String("target", "2^-32", "acceptable collision probability per key")
	starts := fs.Float64("starts", 100, "process starts sharing one key over its life: apiservers x (1 + restarts) (atrest strategies)")
	restores := fs.Float64("restores", 0, "VM snapshot restores of a running writer (kmsv2-counter, atrest strategies)")
	replay := fs.Float64("replay", 1000, "writes replayed by each restore")
	simulate := fs.Bool("simulate", false, "run the Monte-Carlo validation and write the chart")
	widthsS := fs.String("widths", "16,20,24,28,32,36,40", "nonce widths in bits for --simulate (list or range lo-hi)")
	trials := fs.Int("trials", 1000, "trials per width for --simulate")
	seed := fs.Uint64("seed", 1, "seed of the simulation's PCG generator")
	out := fs.String("out", "results", "directory for --simulate's chart and table")
	markdown := fs.Bool("markdown", false, "print the tables as Markdown")
	progress := fs.String("progress", "auto", "progress on stderr for --simulate: auto (bar on a terminal, lines otherwise), bar, lines or none")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}

	var names []string
	if *provider == "all" {
		for _, s := range nonce.Schemes() {
			names = append(names, s.Name)
		}
	} else if n, ok := nonceProviders[*provider]; ok {
		names = n
	} else {
		return fmt.Errorf("%w: unknown --provider %q (want aesgcm, secretbox, aescbc, kmsv2-counter, kmsv2-xnonce, atrest or all)", errUsage, *provider)
	}
	target, err := parseCount(*targetS)
	if err != nil || !(target > 0 && target < 1) {
		return fmt.Errorf("%w: --target %q: want a probability in (0, 1), e.g. 2^-32 or 1e-9", errUsage, *targetS)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"--starts", *starts}, {"--restores", *restores}, {"--replay", *replay}} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%w: %s must be a non-negative number", errUsage, f.name)
		}
	}
	dep := nonce.Deployment{Starts: *starts, Restores: *restores, Replay: *replay}

	type scenario struct {
		title  string
		writes float64
		rate   float64 // 0: no lifetime column
	}
	var scenarios []scenario
	var rate float64
	if *rateS != "" {
		if rate, err = parseRate(*rateS); err != nil {
			return fmt.Errorf("%w: --rate %q: %v", errUsage, *rateS, err)
		}
	}
	switch {
	case *writesS != "" && *lifeS != "":
		return fmt.Errorf("%w: give --writes or --rate with --lifetime, not both", errUsage)
	case *lifeS != "" && rate == 0:
		return fmt.Errorf("%w: --lifetime needs --rate", errUsage)
	case *writesS != "":
		n, err := parseCount(*writesS)
		if err != nil || n < 0 || math.IsInf(n, 0) {
			return fmt.Errorf("%w: --writes %q: want a non-negative count such as 200000, 2^32 or 4e9", errUsage, *writesS)
		}
		scenarios = append(scenarios, scenario{fmt.Sprintf("%s writes", fmtCount(n)), n, rate})
	case *lifeS != "":
		d, err := parseLifetime(*lifeS)
		if err != nil {
			return fmt.Errorf("%w: --lifetime %q: %v", errUsage, *lifeS, err)
		}
		n := math.Floor(rate * d)
		scenarios = append(scenarios, scenario{fmt.Sprintf("%s writes/s for %s = %s writes", fmtCount(rate), *lifeS, fmtCount(n)), n, rate})
	case rate != 0:
		scenarios = append(scenarios, scenario{fmt.Sprintf("key lifetimes at %s writes/s", fmtCount(rate)), math.NaN(), rate})
	default:
		year := 365.25 * 24 * 3600
		scenarios = []scenario{
			{"200,000 writes (the Kubernetes docs' rotation advice)", 200000, 100},
			{"2^32 writes (NIST SP 800-38D's random-nonce limit)", math.Ldexp(1, 32), 100},
			{"100 writes/s for a year = " + fmtCount(math.Floor(100*year)) + " writes", math.Floor(100 * year), 100},
		}
	}

	schemes := map[string]nonce.Scheme{}
	for _, s := range nonce.Schemes() {
		schemes[s.Name] = s
	}
	fmt.Fprintf(sio.out, "Deployment: %g process starts share each key; %g snapshot restores replaying %g writes each. Target %s.\n",
		dep.Starts, dep.Restores, dep.Replay, fmtProb(target))
	for _, sc := range scenarios {
		var tw table = tabwriter.NewWriter(sio.out, 0, 0, 2, ' ', 0)
		if *markdown {
			fmt.Fprintf(sio.out, "\n**%s**\n\n", sc.title)
			tw = &mdTable{w: sio.out}
		} else {
			fmt.Fprintf(sio.out, "\n== %s\n", sc.title)
		}
		head := "scheme\tnonce\tP(collision)"
		if math.IsNaN(sc.writes) {
			head = "scheme\tnonce"
		}
		head += "\tmax writes at " + fmtProb(target)
		if sc.rate > 0 {
			head += "\tkey lifetime at " + fmtCount(sc.rate) + "/s"
		}
		fmt.Fprintln(tw, head)
		for _, name := range names {
			s := schemes[name]
			row := s.Name + "\t" + s.Layout
			if !math.IsNaN(sc.writes) {
				row += "\t" + fmtProb(s.Risk(sc.writes, dep))
			}
			m := s.MaxWrites(target, dep)
			row += "\t" + fmtMax(m, s)
			if sc.rate > 0 && m >= 2 {
				row += "\t" + fmtYears(m/sc.rate)
			} else if sc.rate > 0 {
				row += "\t-"
			}
			fmt.Fprintln(tw, row)
		}
		tw.Flush()
	}
	fmt.Fprintln(sio.out, "\nWhat a collision means:")
	for _, name := range names {
		fmt.Fprintf(sio.out, "  %-17s %s\n", schemes[name].Name+":", schemes[name].Event)
	}

	if !*simulate {
		return nil
	}
	widths, err := parseWidths(*widthsS)
	if err != nil {
		return fmt.Errorf("%w: --widths %q: %v", errUsage, *widthsS, err)
	}
	if *trials < 10 {
		return fmt.Errorf("%w: --trials must be at least 10", errUsage)
	}
	mode := *progress
	switch mode {
	case "auto":
		mode = "lines"
		if f, ok := sio.err.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				mode = "bar"
			}
		}
	case "bar", "lines", "none":
	default:
		return fmt.Errorf("%w: --progress %q: want auto, bar, lines or none", errUsage, mode)
	}
	return runSimulation(ctx, sio, widths, *trials, *seed, *out, mode)
}

const z999 = 3.2905 // two-sided 99.9% normal quantile

func runSimulation(ctx context.Context, sio stdio, widths []int, trials int, seed uint64, out, mode string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	start := time.Now()
	prog := newProgress(sio.err, mode, len(widths)*trials)
	sims := make([]*nonce.Simulation, len(widths))
	errs := make([]error, len(widths))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, b := range widths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			rng := rand.New(rand.NewPCG(seed, uint64(b)))
			last := 0
			sims[i], errs[i] = nonce.Simulate(ctx, rng, b, trials, func(done int) {
				prog.add(done - last)
				last = done
			})
		}()
	}
	wg.Wait()
	prog.finish()
	if err := errors.Join(errs...); err != nil {
		return err
	}

	var txt strings.Builder
	fmt.Fprintf(&txt, "Monte-Carlo check of the exact birthday formula: random nonces truncated to each width,\n"+
		"%d trials per width (PCG seed %d, stream = width), 99.9%% Wilson intervals. Took %s.\n\n", trials, seed, time.Since(start).Round(time.Second))
	points := len(sims) * len(nonce.CheckLevels)
	// Family-wise 99.9% over all points (Bonferroni): per point 1 − 0.001/points.
	zFW := normalQuantile(1 - 0.001/(2*float64(points)))
	tw := tabwriter.NewWriter(&txt, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "bits\twrites\texact\tn²/2N\tsimulated\t99.9%% interval\tinside\tfamily-wise interval (z=%.2f)\tinside\t\n", zFW)
	inside, insideFW := 0, 0
	yes := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "NO"
	}
	for _, s := range sims {
		fw := nonce.Compare(s, nonce.CheckLevels, zFW)
		for i, c := range nonce.Compare(s, nonce.CheckLevels, z999) {
			if c.Inside() {
				inside++
			}
			if fw[i].Inside() {
				insideFW++
			}
			fmt.Fprintf(tw, "%d\t%.0f\t%.4f\t%.4f\t%.4f\t[%.4f, %.4f]\t%s\t[%.4f, %.4f]\t%s\t\n",
				c.Bits, c.N, c.Analytic, c.Approx, c.Rate, c.Lo, c.Hi, yes(c.Inside()), fw[i].Lo, fw[i].Hi, yes(fw[i].Inside()))
		}
	}
	tw.Flush()
	fmt.Fprintf(&txt, "\nExact value inside the per-point 99.9%% interval at %d of %d points (about %.1f misses expected by chance),\n"+
		"and inside the family-wise 99.9%% interval (Bonferroni over the %d points) at %d of %d.\n",
		inside, points, 0.001*float64(points), points, insideFW, points)
	if err := os.WriteFile(filepath.Join(out, "nonce-sim.txt"), []byte(txt.String()), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(out, "nonce-sim.svg"))
	if err != nil {
		return err
	}
	if err := nonce.Chart(f, sims, z999); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "\n%s", txt.String())
	fmt.Fprintf(sio.out, "Wrote %s and %s.\n", filepath.Join(out, "nonce-sim.svg"), filepath.Join(out, "nonce-sim.txt"))
	if insideFW != points {
		return fmt.Errorf("exact value outside the family-wise interval at %d of %d points", points-insideFW, points)
	}
	return nil
}

type table interface {
	io.Writer
	Flush() error
}

// mdTable turns tab-separated lines into a Markdown table.
type mdTable struct {
	w    io.Writer
	rows int
}

func (m *mdTable) Write(p []byte) (int, error) {
	for line := range strings.SplitSeq(strings.TrimSuffix(string(p), "\n"), "\n") {
		cells := strings.Split(strings.ReplaceAll(line, "|", `\|`), "\t")
		fmt.Fprintf(m.w, "| %s |\n", strings.Join(cells, " | "))
		if m.rows == 0 {
			fmt.Fprintf(m.w, "|%s\n", strings.Repeat("---|", len(cells)))
		}
		m.rows++
	}
	return len(p), nil
}

func (m *mdTable) Flush() error { return nil }

// normalQuantile returns z with Φ(z) = p, for 0.5 < p < 1, by bisection.
func normalQuantile(p float64) float64 {
	lo, hi := 0.0, 40.0
	for range 200 {
		mid := (lo + hi) / 2
		if 0.5*math.Erfc(-mid/math.Sqrt2) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// progress reports simulation progress on w: a redrawn bar, or a plain
// line every 10%.
type progress struct {
	mu          sync.Mutex
	w           io.Writer
	mode        string
	done, total int
	shown       int // last tenth printed (lines) or last permille drawn (bar)
}

func newProgress(w io.Writer, mode string, total int) *progress {
	return &progress{w: w, mode: mode, total: total, shown: -1}
}

func (p *progress) add(k int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += k
	switch p.mode {
	case "bar":
		if m := p.done * 1000 / p.total; m != p.shown {
			p.shown = m
			const width = 40
			fill := p.done * width / p.total
			fmt.Fprintf(p.w, "\rsimulating [%s%s] %5.1f%% %d/%d trials", strings.Repeat("#", fill), strings.Repeat(".", width-fill), float64(m)/10, p.done, p.total)
		}
	case "lines":
		if t := p.done * 10 / p.total; t != p.shown {
			p.shown = t
			fmt.Fprintf(p.w, "simulating: %d/%d trials (%d%%)\n", p.done, p.total, t*10)
		}
	}
}

func (p *progress) finish() {
	if p.mode == "bar" {
		fmt.Fprintln(p.w)
	}
}

// parseCount parses 200000, 2e5, 200k, 4M, 2G, 2^32, 2^-32 and 1.5*2^32.
func parseCount(s string) (float64, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "_", ""))
	if a, b, ok := strings.Cut(s, "*"); ok {
		x, err := parseCount(a)
		if err != nil {
			return 0, err
		}
		y, err := parseCount(b)
		return x * y, err
	}
	if base, exp, ok := strings.Cut(s, "^"); ok {
		b, err1 := strconv.ParseFloat(base, 64)
		e, err2 := strconv.ParseFloat(exp, 64)
		if err1 != nil || err2 != nil {
			return 0, fmt.Errorf("bad number %q", s)
		}
		return math.Pow(b, e), nil
	}
	mult := 1.0
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult = 1e3
		case 'M':
			mult = 1e6
		case 'G':
			mult = 1e9
		case 'T':
			mult = 1e12
		}
		if mult != 1 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return v * mult, nil
}

// parseRate parses writes per second: 100, 100/s, 6000/min, 1e6/h, 1e7/d.
func parseRate(s string) (float64, error) {
	num, unit, _ := strings.Cut(s, "/")
	v, err := parseCount(num)
	if err != nil {
		return 0, err
	}
	switch unit {
	case "", "s":
	case "min", "m":
		v /= 60
	case "h":
		v /= 3600
	case "d":
		v /= 86400
	default:
		return 0, fmt.Errorf("unknown unit %q (want s, min, h or d)", unit)
	}
	if !(v > 0) || math.IsInf(v, 0) {
		return 0, errors.New("want a positive rate")
	}
	return v, nil
}

// parseLifetime returns seconds for a Go duration or a count of d, w or y.
func parseLifetime(s string) (float64, error) {
	var sec float64
	if n := len(s); n > 1 && strings.ContainsRune("dwy", rune(s[n-1])) {
		v, err := parseCount(s[:n-1])
		if err != nil {
			return 0, err
		}
		sec = v * map[byte]float64{'d': 86400, 'w': 7 * 86400, 'y': 365.25 * 86400}[s[n-1]]
	} else {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, errors.New("want a duration such as 720h, 90d or 1y")
		}
		sec = d.Seconds()
	}
	if !(sec > 0) || math.IsInf(sec, 0) {
		return 0, errors.New("want a positive lifetime")
	}
	return sec, nil
}

// parseWidths parses "16,20,24" or "16-24".
func parseWidths(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad width %q", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad range %q", part)
			}
		}
		for w := a; w <= b; w++ {
			if w < 8 || w > 44 {
				return nil, fmt.Errorf("width %d outside 8..44", w)
			}
			out = append(out, w)
		}
	}
	return out, nil
}

func fmtProb(p float64) string {
	switch {
	case math.IsNaN(p):
		return "n/a (past the scheme's limit)"
	case p == 0:
		return "0"
	case p == 1:
		return "1"
	case p < 1e-3 && math.Log2(p) == math.Round(math.Log2(p)):
		return fmt.Sprintf("2^%.0f", math.Log2(p))
	case p < 1e-3:
		return fmt.Sprintf("2^%.1f (%.2g)", math.Log2(p), p)
	default:
		return fmt.Sprintf("%.4f", p)
	}
}

func fmtCount(n float64) string {
	switch {
	case n < 1e6 && n == math.Floor(n):
		return strconv.FormatFloat(n, 'f', -1, 64)
	case n < 1e6:
		return strconv.FormatFloat(n, 'g', 4, 64)
	default:
		return fmt.Sprintf("%.3g (2^%.1f)", n, math.Log2(n))
	}
}

func fmtMax(m float64, s nonce.Scheme) string {
	switch {
	case math.IsNaN(m):
		return "n/a"
	case m < 2:
		return "none (target unreachable)"
	case m >= s.Limit:
		return fmtCount(m) + " (scheme limit)"
	case m >= math.Ldexp(1, 400):
		return "unbounded"
	}
	return fmtCount(m)
}

func fmtYears(sec float64) string {
	const year = 365.25 * 86400
	switch {
	case math.IsNaN(sec):
		return "n/a"
	case sec >= 1000*year:
		return fmt.Sprintf("%.3g years", sec/year)
	case sec >= year:
		return fmt.Sprintf("%.1f years", sec/year)
	case sec >= 86400:
		return fmt.Sprintf("%.1f days", sec/86400)
	case sec >= 3600:
		return fmt.Sprintf("%.1f hours", sec/3600)
	default:
		return fmt.Sprintf("%.0f s", sec)
	}
}
