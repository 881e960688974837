package ctcheck

import (
	"fmt"
	"math"
	"slices"
)

// welford accumulates the mean and variance of a stream of samples in one
// pass (Welford's online algorithm), stable over millions of samples.
type welford struct {
	n    int64
	mean float64
	m2   float64
}

func (w *welford) add(x float64) {
	w.n++
	d := x - w.mean
	w.mean += d / float64(w.n)
	w.m2 += d * (x - w.mean)
}

func (w *welford) variance() float64 {
	if w.n < 2 {
		return 0
	}
	return w.m2 / float64(w.n-1)
}

// ttest is Welch's t-test between the two input classes.
type ttest struct{ c [2]welford }

func (t *ttest) add(class int, x float64) { t.c[class].add(x) }

// t returns Welch's t statistic; 0 while either class has fewer than two
// samples or both have no variance.
func (t *ttest) t() float64 {
	a, b := &t.c[0], &t.c[1]
	if a.n < 2 || b.n < 2 {
		return 0
	}
	se := math.Sqrt(a.variance()/float64(a.n) + b.variance()/float64(b.n))
	if se == 0 {
		return 0
	}
	return (a.mean - b.mean) / se
}

// numCrops is the number of cropped tests besides the uncropped one. As in
// dudect, the thresholds are the percentiles 1 − 0.5^(10·(k+1)/numCrops) of
// a first, discarded batch of measurements: long-tailed noise (interrupts,
// preemption, the other tenants of the machine) is cut off at several
// depths, and the most sensitive depth wins.
const numCrops = 20

// minCropped is the number of samples per class a cropped test needs before
// its statistic counts.
const minCropped = 1000

// stats is the set of t-tests of one run: index 0 is uncropped, index k ≥ 1
// keeps only the measurements below crop[k-1].
type stats struct {
	crop  [numCrops]float64
	tests [numCrops + 1]ttest
}

// setCrops sets the crop thresholds from a sample of measurements.
func (s *stats) setCrops(sample []float64) {
	sorted := slices.Clone(sample)
	slices.Sort(sorted)
	for k := range s.crop {
		q := 1 - math.Pow(0.5, 10*float64(k+1)/numCrops)
		i := min(int(q*float64(len(sorted))), len(sorted)-1)
		s.crop[k] = sorted[i]
	}
}

func (s *stats) add(class int, x float64) {
	s.tests[0].add(class, x)
	for k, c := range s.crop {
		if x < c {
			s.tests[k+1].add(class, x)
		}
	}
}

// max returns the largest |t| over the tests that have enough samples, and
// the name of that test: "raw" or "p<percentile>".
func (s *stats) max() (float64, string) {
	best, name := math.Abs(s.tests[0].t()), "raw"
	for k := range s.crop {
		tt := &s.tests[k+1]
		if tt.c[0].n < minCropped || tt.c[1].n < minCropped {
			continue
		}
		if v := math.Abs(tt.t()); v > best {
			q := 1 - math.Pow(0.5, 10*float64(k+1)/numCrops)
			best, name = v, fmt.Sprintf("p%.1f", 100*q)
		}
	}
	return best, name
}
