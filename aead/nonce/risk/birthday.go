package risk

import (
	"math"
)

// directTerms is the largest n for which LogNoCollision sums the product
// term by term; above it the Euler–Maclaurin form is used.
const directTerms = 4096

// LogNoCollision returns ln P(no collision) for n independent uniform draws
// from a space of size space: ln Π_{i<n} (1 − i/space). It is exact to a few
// ulps of relative error for every n and space (space up to 2^1000), from
// n = 2, where it is −1/space, to n > space, where it is −Inf. n is rounded
// down to an integer.
//
// For n ≤ 4096 it sums log1p(−i/space). Above, with x = n/space ≤ 1/2, it uses
// the Euler–Maclaurin formula for Σ_{i<n} log(1 − i/space):
//
//	−n·h(x) − log1p(−x)/2 − x/(12(space−n)) + (1/(space−n)³ − 1/space³)/360
//
// where h(x) = ((1−x)·log1p(−x) + x)/x = x/2 + x²/6 + x³/12 + … is evaluated
// by its series for small x, so that no term cancels; the next correction is
// below 1/(1000·(space−n)^5), far under a ulp of the result since
// space−n > 4096. For x > 1/2 it uses lgamma (the result is then below
// −0.15·space, and the probability of no collision is 0 in float64 for any
// space above 5000).
func LogNoCollision(n, space float64) float64 {
	n = math.Floor(n)
	switch {
	case math.IsNaN(n) || math.IsNaN(space) || space < 1:
		return math.NaN()
	case n <= 1:
		return 0
	case n > space:
		return math.Inf(-1)
	case n <= directTerms:
		s := 0.0
		for i := 1.0; i < n; i++ {
			s += math.Log1p(-i / space)
		}
		return s
	}
	x := n / space
	if x > 0.5 {
		a, _ := math.Lgamma(space + 1)
		b, _ := math.Lgamma(space - n + 1)
		return a - b - n*math.Log(space)
	}
	rest := space - n
	s := -n * h(x)
	s -= math.Log1p(-x) / 2
	s -= x / (12 * rest)
	s += (1/(rest*rest*rest) - 1/(space*space*space)) / 360
	return s
}

// h(x) = ((1−x)·log1p(−x) + x)/x = Σ_{k≥2} x^(k−1)/(k(k−1)), 0 < x ≤ 1/2.
func h(x float64) float64 {
	if x > 0.03 {
		return ((1-x)*math.Log1p(-x) + x) / x
	}
	sum, p := 0.0, 1.0
	for k := 2.0; k < 40; k++ {
		p *= x
		t := p / (k * (k - 1))
		sum += t
		if t < sum*1e-18 {
			break
		}
	}
	return sum
}

// Collision returns the exact probability that n independent uniform draws
// from a space of size space contain at least one repeated value. Tiny risks
// keep their relative precision (Collision(2, 2^96) is 2^-96) and large n
// saturate cleanly to 1.
func Collision(n, space float64) float64 {
	return -math.Expm1(LogNoCollision(n, space))
}

// CollisionBits is Collision for a space of 2^bits values.
func CollisionBits(n float64, bits int) float64 {
	return Collision(n, math.Ldexp(1, bits))
}

// Approx returns the textbook approximation n²/(2·space) of Collision, not
// capped at 1. It is what operators usually quote; tests and the simulation
// show where it departs from the exact value.
func Approx(n, space float64) float64 { return n * n / (2 * space) }

// MaxWrites returns the largest number of draws n from a space of size space
// for which Collision(n, space) ≤ target, found by bisection on the exact
// form. target must be in (0, 1); MaxWrites returns NaN otherwise.
func MaxWrites(space, target float64) float64 {
	return Invert(func(n float64) float64 { return Collision(n, space) }, target, space+1)
}

// Invert returns the largest integer n in [1, limit] with risk(n) ≤ target,
// for a risk that does not decrease with n; limit when risk(limit) ≤ target,
// 0 when even risk(1) exceeds it, and NaN for a target outside (0, 1). Above
// 2^53 the answer is exact to float64 precision.
func Invert(risk func(n float64) float64, target, limit float64) float64 {
	if !(target > 0 && target < 1) || math.IsNaN(limit) {
		return math.NaN()
	}
	limit = math.Floor(limit)
	if risk(limit) <= target {
		return limit
	}
	if risk(1) > target {
		return 0
	}
	lo, hi := 1.0, limit // risk(lo) ≤ target < risk(hi)
	for hi-lo > 1 {
		var mid float64
		if hi > 4*lo {
			mid = math.Floor(math.Sqrt(lo) * math.Sqrt(hi))
		} else {
			mid = math.Floor(lo + (hi-lo)/2)
		}
		if mid <= lo || mid >= hi {
			break // float64 resolution reached
		}
		if risk(mid) <= target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}
