package risk_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/atrest-dev/atrest/aead/nonce/risk"
)

func TestNormalQuantile(t *testing.T) {
	for p, z := range map[float64]float64{0.975: 1.959964, 0.9995: 3.290527, 0.99999: 4.264891} {
		if got := risk.NormalQuantile(p); math.Abs(got-z) > 1e-5 {
			t.Errorf("NormalQuantile(%g) = %.6f, want %.6f", p, got, z)
		}
	}
	if got := risk.NormalQuantile(1 - 0.0005); math.Abs(got-risk.Z999) > 1e-4 {
		t.Errorf("Z999 = %g is not the two-sided 99.9%% quantile %g", risk.Z999, got)
	}
}

// Validate agrees with the formula for a fixed seed, reports every trial to
// progress, and uses a Bonferroni quantile wider than the per-point one.
func TestValidate(t *testing.T) {
	var done atomic.Int64
	v, err := risk.Validate(t.Context(), []int{12, 14}, 200, 3, func(n int) { done.Add(int64(n)) })
	if err != nil {
		t.Fatal(err)
	}
	if done.Load() != 400 {
		t.Errorf("progress saw %d trials, want 400", done.Load())
	}
	points := 2 * len(risk.CheckLevels)
	if len(v.Checks) != points || len(v.FamilyWise) != points {
		t.Fatalf("%d and %d checks, want %d", len(v.Checks), len(v.FamilyWise), points)
	}
	// 18 points at 99.9% jointly: each at 1 − 0.001/18, two-sided.
	if want := risk.NormalQuantile(1 - 0.001/36); v.ZFamilyWise != want || v.ZFamilyWise <= risk.Z999 {
		t.Errorf("ZFamilyWise = %g, want %g (> %g)", v.ZFamilyWise, want, risk.Z999)
	}
	if _, fw, n := v.Inside(); fw != n || v.Err() != nil {
		t.Errorf("inside %d of %d: %v", fw, n, v.Err())
	}
	var b strings.Builder
	if err := v.WriteText(&b); err != nil || !strings.Contains(b.String(), "at 18 of 18.\n") {
		t.Errorf("WriteText: %v\n%s", err, b.String())
	}
}

// Err reports a point outside its family-wise interval.
func TestValidationErr(t *testing.T) {
	v := &risk.Validation{
		Checks:     []risk.Check{{Analytic: 0.5, Lo: 0.4, Hi: 0.6}, {Analytic: 0.5, Lo: 0.6, Hi: 0.7}},
		FamilyWise: []risk.Check{{Analytic: 0.5, Lo: 0.3, Hi: 0.7}, {Analytic: 0.5, Lo: 0.55, Hi: 0.8}},
	}
	if in, fw, n := v.Inside(); in != 1 || fw != 1 || n != 2 {
		t.Errorf("Inside = %d, %d, %d; want 1, 1, 2", in, fw, n)
	}
	err := v.Err()
	if !errors.Is(err, risk.ErrOutside) || err.Error() != "exact value outside the family-wise interval at 1 of 2 points" {
		t.Errorf("Err = %v", err)
	}
}

func TestValidateCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := risk.Validate(ctx, []int{16}, 100, 1, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Validate after cancel: %v", err)
	}
}
