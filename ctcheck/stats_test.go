package ctcheck

import (
	"math"
	"testing"
)

// TestWelch checks the online statistics against a direct computation.
func TestWelch(t *testing.T) {
	a := []float64{10, 12, 11, 13, 10, 12, 11}
	b := []float64{14, 15, 13, 16, 14, 15}
	var tt ttest
	for _, x := range a {
		tt.add(0, x)
	}
	for _, x := range b {
		tt.add(1, x)
	}
	mv := func(xs []float64) (m, v float64) {
		for _, x := range xs {
			m += x
		}
		m /= float64(len(xs))
		for _, x := range xs {
			v += (x - m) * (x - m)
		}
		return m, v / float64(len(xs)-1)
	}
	ma, va := mv(a)
	mb, vb := mv(b)
	want := (ma - mb) / math.Sqrt(va/float64(len(a))+vb/float64(len(b)))
	if got := tt.t(); math.Abs(got-want) > 1e-9 {
		t.Fatalf("t = %v, want %v", got, want)
	}
	var empty ttest
	empty.add(0, 1)
	if empty.t() != 0 {
		t.Fatal("t of one sample is not 0")
	}
}

func TestCrops(t *testing.T) {
	sample := make([]float64, 1000)
	for i := range sample {
		sample[i] = float64(i)
	}
	var s stats
	s.setCrops(sample)
	for k := 1; k < numCrops; k++ {
		if s.crop[k] < s.crop[k-1] {
			t.Fatalf("crops not increasing: %v", s.crop)
		}
	}
	if s.crop[0] < 250 || s.crop[0] > 350 || s.crop[numCrops-1] < 990 {
		t.Fatalf("crops %v", s.crop)
	}
	// A value above every crop lands only in the raw test.
	s.add(0, 5000)
	if s.tests[0].c[0].n != 1 || s.tests[numCrops].c[0].n != 0 {
		t.Fatal("crop not applied")
	}
}
