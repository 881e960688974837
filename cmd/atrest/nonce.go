package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/atrest-dev/atrest/aead/nonce/risk"
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

	schemes, ok := risk.SchemesOf(*provider)
	if !ok {
		return fmt.Errorf("%w: unknown --provider %q (want aesgcm, secretbox, aescbc, kmsv2-counter, kmsv2-xnonce, atrest or all)", errUsage, *provider)
	}
	target, err := risk.ParseCount(*targetS)
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
	rep := risk.Report{
		Schemes:    schemes,
		Deployment: risk.Deployment{Starts: *starts, Restores: *restores, Replay: *replay},
		Target:     target,
	}
	var rate float64
	if *rateS != "" {
		if rate, err = risk.ParseRate(*rateS); err != nil {
			return fmt.Errorf("%w: --rate %q: %v", errUsage, *rateS, err)
		}
	}
	switch {
	case *writesS != "" && *lifeS != "":
		return fmt.Errorf("%w: give --writes or --rate with --lifetime, not both", errUsage)
	case *lifeS != "" && rate == 0:
		return fmt.Errorf("%w: --lifetime needs --rate", errUsage)
	case *writesS != "":
		n, err := risk.ParseCount(*writesS)
		if err != nil || n < 0 || math.IsInf(n, 0) {
			return fmt.Errorf("%w: --writes %q: want a non-negative count such as 200000, 2^32 or 4e9", errUsage, *writesS)
		}
		rep.Scenarios = []risk.Scenario{{Title: risk.FormatCount(n) + " writes", Writes: n, Rate: rate}}
	case *lifeS != "":
		d, err := risk.ParseLifetime(*lifeS)
		if err != nil {
			return fmt.Errorf("%w: --lifetime %q: %v", errUsage, *lifeS, err)
		}
		n := math.Floor(rate * d)
		title := fmt.Sprintf("%s writes/s for %s = %s writes", risk.FormatCount(rate), *lifeS, risk.FormatCount(n))
		rep.Scenarios = []risk.Scenario{{Title: title, Writes: n, Rate: rate}}
	case rate != 0:
		rep.Scenarios = []risk.Scenario{{Title: "key lifetimes at " + risk.FormatCount(rate) + " writes/s", Writes: math.NaN(), Rate: rate}}
	default:
		rep.Scenarios = risk.DefaultScenarios()
	}
	write := rep.WriteText
	if *markdown {
		write = rep.WriteMarkdown
	}
	if err := write(sio.out); err != nil {
		return err
	}

	if !*simulate {
		return nil
	}
	widths, err := risk.ParseWidths(*widthsS)
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

	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	prog := newProgress(sio.err, mode, len(widths)*(*trials))
	v, err := risk.Validate(ctx, widths, *trials, *seed, prog.add)
	prog.finish()
	if err != nil {
		return err
	}
	var txt bytes.Buffer
	if err := v.WriteText(&txt); err != nil {
		return err
	}
	txtPath, svgPath := filepath.Join(*out, "nonce-sim.txt"), filepath.Join(*out, "nonce-sim.svg")
	if err := os.WriteFile(txtPath, txt.Bytes(), 0o644); err != nil {
		return err
	}
	f, err := os.Create(svgPath)
	if err != nil {
		return err
	}
	if err := v.WriteChart(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "\n%s", txt.Bytes())
	fmt.Fprintf(sio.out, "Wrote %s and %s.\n", svgPath, txtPath)
	return v.Err()
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
