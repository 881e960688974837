package risk_test

import (
	"math"
	"testing"
	"time"

	"github.com/atrest-dev/atrest/aead/nonce"
	"github.com/atrest-dev/atrest/aead/nonce/risk"
)

func scheme(t *testing.T, name string) risk.Scheme {
	for _, s := range risk.Schemes() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no scheme %q", name)
	return risk.Scheme{}
}

func TestRandomSchemes(t *testing.T) {
	n := math.Ldexp(1, 32)
	for name, bits := range map[string]int{"aesgcm": 96, "secretbox": 192, "aescbc": 128, "kmsv2-xnonce": 352, "kmsv2-xnonce-key": 256} {
		s := scheme(t, name)
		if got, want := s.Risk(n, risk.Deployment{Restores: 5, Replay: 100, Starts: 9}), risk.CollisionBits(n, bits); got != want {
			t.Errorf("%s: Risk(2^32) = %g, want %g", name, got, want)
		}
	}
	gcm := scheme(t, "aesgcm")
	// 100 writes/s until the risk reaches 2^-32: 2^32.5 writes, about 1.9 years.
	life := gcm.Lifetime(math.Ldexp(1, -32), 100, risk.Deployment{})
	if y := life.Hours() / 24 / 365.25; math.Abs(y-1.92) > 0.01 {
		t.Errorf("aesgcm lifetime at 100/s = %.3f years, want 1.92", y)
	}
	if got := scheme(t, "secretbox").Lifetime(1e-9, 1e9, risk.Deployment{}); got != time.Duration(math.MaxInt64) {
		t.Errorf("secretbox lifetime did not saturate: %v", got)
	}
}

func TestKMSv2Counter(t *testing.T) {
	s := scheme(t, "kmsv2-counter")
	if r := s.Risk(1e12, risk.Deployment{}); r != 0 {
		t.Errorf("no restore: risk %g, want 0", r)
	}
	// One restore replaying 2^10 writes: 1 − (1 − 2^-32)^1024 ≈ 2^-22.
	r := s.Risk(1e12, risk.Deployment{Restores: 1, Replay: 1024})
	if math.Abs(math.Log2(r)+22) > 1e-6 {
		t.Errorf("one restore: risk 2^%.4f, want 2^-22", math.Log2(r))
	}
	// The replay cannot exceed the writes made.
	if r := s.Risk(10, risk.Deployment{Restores: 1, Replay: 1024}); math.Abs(r/(10*math.Ldexp(1, -32))-1) > 1e-6 {
		t.Errorf("replay capped at n: %g", r)
	}
	if !math.IsNaN(s.Risk(math.Ldexp(1, 64), risk.Deployment{})) {
		t.Error("risk defined past the counter's wrap")
	}
}

func TestAtrestScheme(t *testing.T) {
	s := scheme(t, "atrest")
	one := risk.Deployment{Starts: 1}
	// One process, up to 2^32 writes: one epoch, the counter never repeats.
	if r := s.Risk(math.Ldexp(1, 32), one); r != 0 {
		t.Errorf("one epoch: risk %g, want 0", r)
	}
	// 2^32+1 writes: two epochs, risk Collision(2, 2^64) = 2^-64.
	if r := s.Risk(math.Ldexp(1, 32)+1, one); r != math.Ldexp(1, -64) {
		t.Errorf("two epochs: risk %g, want 2^-64", r)
	}
	// 100 starts and 2^32 writes: at most 100 epochs + 0 extra.
	if r, want := s.Risk(math.Ldexp(1, 32), risk.Deployment{Starts: 100}), risk.CollisionBits(100, 64); r != want {
		t.Errorf("100 starts: %g, want %g", r, want)
	}
	if r := s.Risk(1e6, risk.Deployment{Starts: 3, Restores: 1, Replay: 1}); r != 1 {
		t.Errorf("a replayed write without fresh bits must repeat a nonce: %g", r)
	}
	r32 := risk.AtrestScheme("r32", nonce.Options{RandomBits: 32})
	// Two starts of 2^31 writes each: 1 pair of epochs, 2^-32 prefix match,
	// then 1 − (1 − 2^-32)^(2^31) of the same-position writes matching.
	n := math.Ldexp(1, 32)
	want := math.Ldexp(1, -32) * -math.Expm1(math.Ldexp(1, 31)*math.Log1p(-math.Ldexp(1, -32)))
	if r := r32.Risk(n, risk.Deployment{Starts: 2}); math.Abs(r/want-1) > 1e-12 {
		t.Errorf("r32: %g, want %g", r, want)
	}
	// Max writes is consistent with Risk.
	for _, sc := range []risk.Scheme{s, r32} {
		d := risk.Deployment{Starts: 100}
		m := sc.MaxWrites(math.Ldexp(1, -32), d)
		if sc.Risk(m, d) > math.Ldexp(1, -32) || sc.Risk(m*1.001+1, d) <= math.Ldexp(1, -32) {
			t.Errorf("%s: MaxWrites %g inconsistent with Risk", sc.Name, m)
		}
	}
}
