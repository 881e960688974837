package risk_test

import (
	"context"
	"encoding/xml"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/aead/nonce/risk"
)

// Monte-Carlo validation: for widths 16..24, 2000 trials each with a fixed
// seed, the exact formula lies inside the 99.9% Wilson interval of the
// simulated collision rate at every level, and the n²/2N approximation does
// not at the 50% point (so the check can tell them apart).
func TestSimulationMatchesFormula(t *testing.T) {
	const trials = 2000
	for bits := 16; bits <= 24; bits++ {
		rng := rand.New(rand.NewPCG(0x61747265, uint64(bits)))
		sim, err := risk.Simulate(t.Context(), rng, bits, trials, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range risk.Compare(sim, risk.CheckLevels, risk.Z999) {
			if !c.Inside() {
				t.Errorf("bits=%d n=%g: exact %.4f outside simulated [%.4f, %.4f] (rate %.4f)", bits, c.N, c.Analytic, c.Lo, c.Hi, c.Rate)
			}
		}
		half := risk.Compare(sim, []float64{0.5}, risk.Z999)[0]
		if half.Lo <= half.Approx && half.Approx <= half.Hi {
			t.Errorf("bits=%d: approximation %.4f inside [%.4f, %.4f]; the check cannot tell it from the exact value", bits, half.Approx, half.Lo, half.Hi)
		}
	}
}

func TestSimulateDeterministicAndProgress(t *testing.T) {
	var calls int
	a, _ := risk.Simulate(t.Context(), rand.New(rand.NewPCG(1, 2)), 12, 50, func(done int) { calls = done })
	b, _ := risk.Simulate(t.Context(), rand.New(rand.NewPCG(1, 2)), 12, 50, nil)
	if calls != 50 {
		t.Errorf("progress saw %d, want 50", calls)
	}
	for i := range a.First {
		if a.First[i] != b.First[i] {
			t.Fatal("same seed, different results")
		}
		if a.First[i] < 2 || a.First[i] > 1<<12+1 {
			t.Fatalf("first collision at %d draws", a.First[i])
		}
	}
	// A 1-bit space repeats by the third draw.
	s, _ := risk.Simulate(t.Context(), rand.New(rand.NewPCG(3, 4)), 1, 200, nil)
	if s.Hits(1) != 0 || s.Hits(3) != 200 || s.Hits(2) < 60 || s.Hits(2) > 140 {
		t.Errorf("1-bit hits: %d %d %d", s.Hits(1), s.Hits(2), s.Hits(3))
	}
	if _, err := risk.Simulate(t.Context(), rand.New(rand.NewPCG(1, 2)), 0, 1, nil); !errors.Is(err, risk.ErrSimulation) {
		t.Errorf("bits=0: err = %v, want ErrSimulation", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := risk.Simulate(ctx, rand.New(rand.NewPCG(1, 2)), 20, 10, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestWilson(t *testing.T) {
	for _, c := range []struct {
		hits, n int
		lo, hi  float64
	}{
		{0, 10, 0, 0.27753},
		{5, 10, 0.23659, 0.76341},
		{10, 10, 0.72247, 1},
		{1, 10, 0.01787, 0.40415}, // tabulated value
	} {
		lo, hi := risk.Wilson(c.hits, c.n, 1.959964)
		if math.Abs(lo-c.lo) > 1e-4 || math.Abs(hi-c.hi) > 1e-4 {
			t.Errorf("Wilson(%d, %d) = [%.5f, %.5f], want [%.5f, %.5f]", c.hits, c.n, lo, hi, c.lo, c.hi)
		}
	}
}

func TestChart(t *testing.T) {
	var sims []*risk.Simulation
	for _, b := range []int{16, 18} {
		s, _ := risk.Simulate(t.Context(), rand.New(rand.NewPCG(5, uint64(b))), b, 100, nil)
		sims = append(sims, s)
	}
	var buf strings.Builder
	if err := risk.Chart(&buf, sims, risk.Z999); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	var doc struct{ XMLName xml.Name }
	if err := xml.Unmarshal([]byte(out), &doc); err != nil || doc.XMLName.Local != "svg" {
		t.Fatalf("not an SVG document: %v", err)
	}
	for _, want := range []string{"16 bits, 100 trials", "18 bits, 100 trials", "<polyline", "<circle"} {
		if !strings.Contains(out, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	if err := risk.Chart(&buf, nil, risk.Z999); err == nil {
		t.Error("empty chart accepted")
	}
}
