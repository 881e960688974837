package risk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"text/tabwriter"
	"time"
)

// ErrOutside is returned by Validation.Err when the exact formula lies
// outside the family-wise interval of a simulation at some point.
var ErrOutside = errors.New("exact value outside the family-wise interval")

// Validation is a Monte-Carlo check of the exact birthday formula: one
// Simulation per nonce width, compared with Collision at CheckLevels.
type Validation struct {
	Sims    []*Simulation
	Trials  int           // per width
	Seed    uint64        // of the PCG generators (the stream is the width)
	Elapsed time.Duration // wall time of the simulations

	// Checks holds Compare at Z999 of each simulation in turn (per point
	// 99.9% intervals), FamilyWise the same points at ZFamilyWise.
	Checks, FamilyWise []Check
	// ZFamilyWise is the quantile that makes the intervals hold at 99.9%
	// jointly over all the points (Bonferroni: 1 − 0.001/points each).
	ZFamilyWise float64
}

// Validate simulates trials first-collision times for random nonces of
// each of widths bits, from a PCG generator seeded with (seed, width), the
// widths in parallel on up to GOMAXPROCS goroutines, and compares them with
// the exact formula. If progress is not nil it is called, from several
// goroutines at once, with the number of trials completed since its last
// call. It stops with ctx's error when ctx is done.
func Validate(ctx context.Context, widths []int, trials int, seed uint64, progress func(trials int)) (*Validation, error) {
	start := time.Now()
	sims := make([]*Simulation, len(widths))
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
			var report func(int)
			if progress != nil {
				report = func(done int) {
					progress(done - last)
					last = done
				}
			}
			sims[i], errs[i] = Simulate(ctx, rng, b, trials, report)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	v := &Validation{Sims: sims, Trials: trials, Seed: seed, Elapsed: time.Since(start)}
	points := len(sims) * len(CheckLevels)
	v.ZFamilyWise = normalQuantile(1 - 0.001/(2*float64(points)))
	for _, s := range sims {
		v.Checks = append(v.Checks, Compare(s, CheckLevels, Z999)...)
		v.FamilyWise = append(v.FamilyWise, Compare(s, CheckLevels, v.ZFamilyWise)...)
	}
	return v, nil
}

// Inside returns how many points have the exact value inside their per-point
// and family-wise intervals, and how many points there are.
func (v *Validation) Inside() (perPoint, familyWise, points int) {
	for i, c := range v.Checks {
		if c.Inside() {
			perPoint++
		}
		if v.FamilyWise[i].Inside() {
			familyWise++
		}
	}
	return perPoint, familyWise, len(v.Checks)
}

// Err returns an error matching ErrOutside if the exact value lies outside
// the family-wise interval at any point, and nil otherwise.
func (v *Validation) Err() error {
	if _, fw, points := v.Inside(); fw != points {
		return fmt.Errorf("%w at %d of %d points", ErrOutside, points-fw, points)
	}
	return nil
}

// WriteText writes the validation as a table with one row per point, between
// a paragraph on the method and a summary of the agreement.
func (v *Validation) WriteText(w io.Writer) error {
	buf := new(bytes.Buffer)
	fmt.Fprintf(buf, "Monte-Carlo check of the exact birthday formula: random nonces truncated to each width,\n"+
		"%d trials per width (PCG seed %d, stream = width), 99.9%% Wilson intervals. Took %s.\n\n", v.Trials, v.Seed, v.Elapsed.Round(time.Second))
	tw := tabwriter.NewWriter(buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "bits\twrites\texact\tn²/2N\tsimulated\t99.9%% interval\tinside\tfamily-wise interval (z=%.2f)\tinside\t\n", v.ZFamilyWise)
	yes := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "NO"
	}
	for i, c := range v.Checks {
		fw := v.FamilyWise[i]
		fmt.Fprintf(tw, "%d\t%.0f\t%.4f\t%.4f\t%.4f\t[%.4f, %.4f]\t%s\t[%.4f, %.4f]\t%s\t\n",
			c.Bits, c.N, c.Analytic, c.Approx, c.Rate, c.Lo, c.Hi, yes(c.Inside()), fw.Lo, fw.Hi, yes(fw.Inside()))
	}
	tw.Flush()
	inside, insideFW, points := v.Inside()
	fmt.Fprintf(buf, "\nExact value inside the per-point 99.9%% interval at %d of %d points (about %.1f misses expected by chance),\n"+
		"and inside the family-wise 99.9%% interval (Bonferroni over the %d points) at %d of %d.\n",
		inside, points, 0.001*float64(points), points, insideFW, points)
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteChart writes the simulations against the exact curves as an SVG
// (Chart at Z999).
func (v *Validation) WriteChart(w io.Writer) error { return Chart(w, v.Sims, Z999) }

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
