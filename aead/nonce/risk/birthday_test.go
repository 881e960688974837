package risk_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/atrest-dev/atrest/aead/nonce/risk"
)

// exactLog computes ln Π_{i<n}(1 − i/N) with big.Float products in chunks,
// an independent reference for moderate n.
func exactLog(n int, space float64) float64 {
	const prec = 256
	N := new(big.Float).SetPrec(prec).SetFloat64(space)
	prod := new(big.Float).SetPrec(prec).SetFloat64(1)
	total := 0.0
	t := new(big.Float).SetPrec(prec)
	for i := 1; i < n; i++ {
		t.SetFloat64(float64(i))
		t.Sub(N, t)
		t.Quo(t, N)
		prod.Mul(prod, t)
		if i%256 == 0 || i == n-1 { // fold into float64 log before the exponent runs away
			d := new(big.Float).SetPrec(prec).Sub(prod, big.NewFloat(1))
			if df, _ := d.Float64(); df > -0.5 {
				total += math.Log1p(df) // keeps tiny values exact
			} else {
				m := new(big.Float)
				exp := prod.MantExp(m)
				f, _ := m.Float64()
				total += math.Log(f) + float64(exp)*math.Ln2
			}
			prod.SetFloat64(1)
		}
	}
	return total
}

// exactLogSeries computes −Σ_k S_k(n)/(k·N^k), S_k the power sums of 0..n−1,
// in big.Float, for N ≫ n (three terms are exact to 2^-100 there).
func exactLogSeries(n, space float64) float64 {
	const prec = 256
	nb := new(big.Float).SetPrec(prec).SetFloat64(n)
	N := new(big.Float).SetPrec(prec).SetFloat64(space)
	one := big.NewFloat(1).SetPrec(prec)
	nm1 := new(big.Float).SetPrec(prec).Sub(nb, one)
	// S1 = n(n−1)/2, S2 = n(n−1)(2n−1)/6, S3 = (n(n−1)/2)^2
	s1 := new(big.Float).SetPrec(prec).Mul(nb, nm1)
	s1.Quo(s1, big.NewFloat(2))
	twoNm1 := new(big.Float).SetPrec(prec).Mul(nb, big.NewFloat(2))
	twoNm1.Sub(twoNm1, one)
	s2 := new(big.Float).SetPrec(prec).Mul(nb, nm1)
	s2.Mul(s2, twoNm1)
	s2.Quo(s2, big.NewFloat(6))
	s3 := new(big.Float).SetPrec(prec).Mul(s1, s1)
	sum := new(big.Float).SetPrec(prec).Quo(s1, N)
	t := new(big.Float).SetPrec(prec).Quo(s2, N)
	t.Quo(t, N)
	t.Quo(t, big.NewFloat(2))
	sum.Add(sum, t)
	t.Quo(s3, N)
	t.Quo(t, N)
	t.Quo(t, N)
	t.Quo(t, big.NewFloat(3))
	sum.Add(sum, t)
	f, _ := sum.Float64()
	return -f
}

func relErr(got, want float64) float64 {
	if got == want {
		return 0
	}
	return math.Abs(got-want) / math.Abs(want)
}

func TestLogNoCollisionAgainstBigFloat(t *testing.T) {
	for _, bits := range []int{14, 16, 20, 24, 32} {
		space := math.Ldexp(1, bits)
		for _, n := range []int{2, 3, 10, 100, 4096, 4097, 5000, 9000} {
			if float64(n) > space/2 {
				continue
			}
			got, want := risk.LogNoCollision(float64(n), space), exactLog(n, space)
			if e := relErr(got, want); e > 1e-12 {
				t.Errorf("bits=%d n=%d: got %.17g, want %.17g (rel err %.2g)", bits, n, got, want, e)
			}
		}
	}
}

func TestLogNoCollisionLargeSpaces(t *testing.T) {
	for _, bits := range []int{64, 96, 128, 192, 256, 352} {
		space := math.Ldexp(1, bits)
		for _, ln := range []int{13, 16, 20, 32, 40} {
			if 3*ln > bits { // keep the three-term reference exact
				continue
			}
			n := math.Ldexp(1, ln) + 7
			got, want := risk.LogNoCollision(n, space), exactLogSeries(n, space)
			if e := relErr(got, want); e > 1e-13 {
				t.Errorf("bits=%d n=2^%d+7: got %.17g, want %.17g (rel err %.2g)", bits, ln, got, want, e)
			}
		}
	}
}

func TestCollisionTinyAndSaturated(t *testing.T) {
	if got := risk.CollisionBits(2, 96); got != math.Ldexp(1, -96) {
		t.Errorf("Collision(2, 2^96) = %g, want 2^-96", got)
	}
	// n = 2^16: n(n−1)/2^97 to first order.
	n := math.Ldexp(1, 16)
	want := n * (n - 1) / math.Ldexp(1, 97)
	if got := risk.CollisionBits(n, 96); relErr(got, want) > 1e-12 {
		t.Errorf("Collision(2^16, 2^96) = %g, want %g", got, want)
	}
	for _, c := range []struct{ n, space float64 }{
		{math.Ldexp(1, 60), math.Ldexp(1, 96)},
		{1e6, 1e6},
		{1e6 + 1, 1e6},
		{65537, 65536},
	} {
		if got := risk.Collision(c.n, c.space); got != 1 {
			t.Errorf("Collision(%g, %g) = %v, want 1", c.n, c.space, got)
		}
	}
	if got := risk.Collision(1, 2); got != 0 {
		t.Errorf("Collision(1, 2) = %v", got)
	}
	if got := risk.Collision(2, 2); got != 0.5 {
		t.Errorf("Collision(2, 2) = %v, want 0.5", got)
	}
	if got := risk.Collision(3, 3); math.Abs(got-7.0/9) > 1e-15 {
		t.Errorf("Collision(3, 3) = %v, want 7/9", got)
	}
}

// The lgamma branch (n > N/2) against the direct product.
func TestLogNoCollisionDense(t *testing.T) {
	for _, c := range []struct{ n, space int }{{6000, 10000}, {9000, 10000}, {10000, 10000}, {3000, 4000}} {
		got, want := risk.LogNoCollision(float64(c.n), float64(c.space)), exactLog(c.n, float64(c.space))
		if e := relErr(got, want); e > 1e-10 {
			t.Errorf("n=%d N=%d: got %.17g, want %.17g (rel err %.2g)", c.n, c.space, got, want, e)
		}
	}
}

func TestCollisionMonotone(t *testing.T) {
	for _, bits := range []int{16, 32, 96} {
		space := math.Ldexp(1, bits)
		prev := 0.0
		for e := 0.0; e <= float64(bits)/2+4; e += 1.0 / 64 {
			n := math.Floor(math.Exp2(e))
			p := risk.Collision(n, space)
			if p < prev || p > 1 || math.IsNaN(p) {
				t.Fatalf("bits=%d: Collision(%g) = %g after %g", bits, n, p, prev)
			}
			prev = p
		}
	}
}

func TestMaxWrites(t *testing.T) {
	for _, bits := range []int{16, 24, 64, 96, 128, 192} {
		space := math.Ldexp(1, bits)
		for _, target := range []float64{math.Ldexp(1, -60), math.Ldexp(1, -32), 1e-6, 0.5, 0.99} {
			m := risk.MaxWrites(space, target)
			if risk.Collision(m, space) > target {
				t.Errorf("bits=%d target=%g: Collision(MaxWrites=%g) = %g > target", bits, target, m, risk.Collision(m, space))
			}
			next := m + 1
			if m >= 1<<53 {
				next = m * (1 + 1e-12)
			}
			if m < space && risk.Collision(next, space) <= target {
				t.Errorf("bits=%d target=%g: MaxWrites=%g is not the largest", bits, target, m)
			}
		}
	}
	// sqrt(2·2^96·2^-32) = 2^32.5 to leading order.
	if m := risk.MaxWrites(math.Ldexp(1, 96), math.Ldexp(1, -32)); math.Abs(m/math.Exp2(32.5)-1) > 1e-6 {
		t.Errorf("MaxWrites(2^96, 2^-32) = %g, want about 2^32.5", m)
	}
	if m := risk.MaxWrites(2, 0.4); m != 1 {
		t.Errorf("MaxWrites(2, 0.4) = %g, want 1", m)
	}
	if m := risk.MaxWrites(16, 0); !math.IsNaN(m) {
		t.Errorf("MaxWrites(16, 0) = %g, want NaN", m)
	}
}
