package ctcheck_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/atrest-dev/atrest/ctcheck"
	"github.com/atrest-dev/atrest/internal/cpu"
)

// leaky is a deliberately variable-time comparison: it exits at the first
// byte that differs from a secret and burns time on every byte that
// matches. Class 0 is the secret itself (16 matches), class 1 random.
func leaky() ctcheck.Target {
	return ctcheck.Target{
		Name: "leaky-compare", Impl: "test",
		Setup: func(rng *rand.Rand) (*ctcheck.Case, error) {
			secret := make([]byte, 16)
			for i := range secret {
				secret[i] = byte(rng.Uint32())
			}
			var sink uint64
			return &ctcheck.Case{
				InputSize: 16,
				Input: func(class int, in []byte, rng *rand.Rand) {
					if class == 0 {
						copy(in, secret)
						return
					}
					for i := range in {
						in[i] = byte(rng.Uint32())
					}
					in[0] = secret[0] ^ 1 // differ at once
				},
				Op: func(in []byte) {
					for i := range in {
						if in[i] != secret[i] {
							return
						}
						for j := range 300 {
							sink += uint64(j) * uint64(in[i])
						}
					}
					_ = sink
				},
			}, nil
		},
	}
}

// TestDetectsLeak checks that the harness flags an obvious leak: class 0
// costs thousands of iterations more than class 1, far above any noise.
func TestDetectsLeak(t *testing.T) {
	for _, evict := range []bool{false, true} {
		r, err := ctcheck.Run(context.Background(), leaky(), ctcheck.Config{N: 3000, Batch: 1000, Evict: evict, EvictSize: 256 << 10})
		if err != nil {
			t.Fatal(err)
		}
		if r.N[0] < 3000 || r.N[1] < 3000 {
			t.Fatalf("evict=%t: n = %v, want ≥ 3000 per class", evict, r.N)
		}
		if !r.Leak || r.MaxT < 10*ctcheck.Threshold {
			t.Fatalf("evict=%t: leaky compare gave |t| = %.1f (%s), means %v", evict, r.MaxT, r.Crop, r.MeanNs)
		}
		if r.MeanNs[0] <= r.MeanNs[1] {
			t.Fatalf("evict=%t: class 0 (long) mean %v not above class 1", evict, r.MeanNs)
		}
	}
}

// TestTargetsRun runs every atrest target briefly, with and without
// eviction: the harness must produce a finite |t| and the requested number
// of measurements. It asserts nothing about |t|: a short run on a shared
// machine proves nothing either way (make ctcheck is the long run).
func TestTargetsRun(t *testing.T) {
	ts := ctcheck.Targets()
	seen := map[string]bool{}
	for _, tg := range ts {
		if seen[tg.ID()] {
			t.Fatalf("duplicate target %s", tg.ID())
		}
		seen[tg.ID()] = true
	}
	for _, tg := range ts {
		if tg.Impl == "crypto-aes" && !cpu.X86.HasAES {
			t.Errorf("%s listed without AES-NI, where atrest never runs table-based crypto/aes", tg.ID())
		}
	}
	for _, name := range []string{"cbc-open/generic", "gcm-open/generic", "secretbox-open/generic",
		"aes-block/generic", "aes-keysched/generic"} {
		if !seen[name] {
			t.Errorf("target %s missing", name)
		}
	}
	for _, tg := range ts {
		for _, evict := range []bool{false, true} {
			r, err := ctcheck.Run(context.Background(), tg, ctcheck.Config{N: 400, Batch: 200, Evict: evict, EvictSize: 64 << 10})
			if err != nil {
				t.Fatalf("%s: %v", tg.ID(), err)
			}
			if r.N[0] < 400 || r.N[1] < 400 || math.IsNaN(r.MaxT) || math.IsInf(r.MaxT, 0) || r.MaxT < 0 {
				t.Fatalf("%s evict=%t: bad result %+v", tg.ID(), evict, r)
			}
			if r.MeanNs[0] <= 0 || r.MeanNs[1] <= 0 {
				t.Fatalf("%s evict=%t: zero times %v", tg.ID(), evict, r.MeanNs)
			}
		}
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := ctcheck.Run(ctx, leaky(), ctcheck.Config{N: 1 << 30, Batch: 100})
	if err == nil || r.N[0]+r.N[1] > 200 {
		t.Fatalf("cancelled run: %v, n = %v", err, r.N)
	}
}

func TestEvictModes(t *testing.T) {
	for s, want := range map[string][]bool{"false": {false}, "true": {true}, "both": {false, true}} {
		if got, err := ctcheck.EvictModes(s); err != nil || !slices.Equal(got, want) {
			t.Errorf("EvictModes(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "yes", "Both"} {
		if _, err := ctcheck.EvictModes(s); !errors.Is(err, ctcheck.ErrEvictMode) {
			t.Errorf("EvictModes(%q) error = %v, want ErrEvictMode", s, err)
		}
	}
}
