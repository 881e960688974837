package risk

import "math"

// Z999 is the two-sided 99.9% normal quantile, the z of the per-point
// intervals of a Validation.
const Z999 = 3.2905

// Check is one comparison of a simulation with the exact formula.
type Check struct {
	Bits     int
	N        float64 // writes
	Analytic float64 // Collision(N, 2^Bits)
	Approx   float64 // n²/2^(Bits+1), capped at 1
	Rate     float64 // simulated fraction of trials that collided within N
	Lo, Hi   float64 // Wilson interval of Rate at the z given to Compare
}

// Inside reports whether the exact value lies in the interval.
func (c Check) Inside() bool { return c.Lo <= c.Analytic && c.Analytic <= c.Hi }

// CheckLevels are the collision probabilities at which Compare evaluates a
// simulation by default.
var CheckLevels = []float64{0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99}

// Compare evaluates sim at the write counts where the exact collision
// probability reaches each of levels (the largest n with Collision ≤ level),
// with Wilson intervals at normal quantile z.
func Compare(sim *Simulation, levels []float64, z float64) []Check {
	space := math.Ldexp(1, sim.Bits)
	out := make([]Check, 0, len(levels))
	for _, l := range levels {
		n := MaxWrites(space, l)
		lo, hi := Wilson(sim.Hits(n), sim.Trials, z)
		out = append(out, Check{
			Bits: sim.Bits, N: n,
			Analytic: Collision(n, space),
			Approx:   math.Min(1, Approx(n, space)),
			Rate:     sim.Rate(n),
			Lo:       lo, Hi: hi,
		})
	}
	return out
}
