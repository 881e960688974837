package risk_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/atrest-dev/atrest/aead/nonce/risk"
)

// simulateCounters plays the Counter model with small fields: starts
// processes each draw one p-bit prefix and write w nonces prefix || r fresh
// bits || counter; then a restore replays the last process's first replay
// writes (same prefix and counters, fresh bits). It returns how many of
// trials saw a repeated nonce.
func simulateCounters(rng *rand.Rand, trials, starts, w, p, r, replay int) int {
	hits := 0
	seen := map[uint64]bool{}
	for range trials {
		clear(seen)
		hit := false
		var prefix uint64
		add := func(rnd, ctr uint64) {
			n := prefix<<40 | rnd<<20 | ctr
			if seen[n] {
				hit = true
			}
			seen[n] = true
		}
		for range starts {
			prefix = rng.Uint64N(1 << p)
			for i := range w {
				add(rng.Uint64N(1<<r), uint64(i))
			}
		}
		for i := range replay {
			add(rng.Uint64N(1<<r), uint64(i))
		}
		if hit {
			hits++
		}
	}
	return hits
}

// The Counter risk model against a simulation of it with 4..10-bit fields:
// exact where the model is exact (no fresh bits: Collision(starts, 2^p);
// a replay in one process: 1 − (1 − 2^-r)^replay), and a valid, tight upper
// bound where it uses the union bound.
func TestCounterModelSimulated(t *testing.T) {
	const trials = 6000
	rng := rand.New(rand.NewPCG(7, 7))
	for _, c := range []struct {
		name                  string
		starts, w, p, r, repl int
		exact                 bool
	}{
		{"r=0", 12, 16, 8, 0, 0, true},
		{"r=0 p=10", 40, 4, 10, 0, 0, true},
		{"r=4 replay", 1, 20, 8, 4, 10, true},
		{"r=4 union", 8, 8, 8, 4, 0, false},
		{"r=2 union", 6, 32, 6, 2, 0, false},
	} {
		n := float64(c.starts * c.w)
		d := risk.Deployment{Starts: float64(c.starts)}
		if c.repl > 0 {
			d.Restores, d.Replay = 1, float64(c.repl)
		}
		var bound float64
		if c.r == 0 && c.repl == 0 {
			bound = risk.CounterRisk(n, d, n, c.p, 0)
		} else {
			bound = risk.CounterRisk(n, d, n, c.p, c.r)
		}
		hits := simulateCounters(rng, trials, c.starts, c.w, c.p, c.r, c.repl)
		lo, hi := risk.Wilson(hits, trials, risk.Z999)
		switch {
		case c.exact && (bound < lo || bound > hi):
			t.Errorf("%s: model %.4f outside simulated [%.4f, %.4f]", c.name, bound, lo, hi)
		case !c.exact && (bound < lo || bound > 1.25*hi):
			t.Errorf("%s: bound %.4f not a tight upper bound of simulated [%.4f, %.4f]", c.name, bound, lo, hi)
		}
		t.Logf("%s: model %.4f, simulated %.4f [%.4f, %.4f]", c.name, bound, float64(hits)/trials, lo, hi)
		if math.IsNaN(bound) {
			t.Fatal("NaN")
		}
	}
}
