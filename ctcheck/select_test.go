package ctcheck_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/atrest-dev/atrest/ctcheck"
)

func ids(ts []ctcheck.Target) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID())
	}
	return out
}

func TestSelect(t *testing.T) {
	all := []ctcheck.Target{{Name: "a", Impl: "x"}, {Name: "a", Impl: "y"}, {Name: "b", Impl: "x"}, {Name: "c", Impl: "y"}}
	for patterns, want := range map[string][]string{
		"*":              {"a/x", "a/y", "b/x", "c/y"},
		"a":              {"a/x", "a/y"},
		"*/y, a/x":       {"a/y", "c/y", "a/x"},
		"b/x,b,*/x,,c/y": {"b/x", "a/x", "c/y"},
	} {
		got, err := ctcheck.Select(all, patterns)
		if err != nil || !slices.Equal(ids(got), want) {
			t.Errorf("Select(%q) = %v, %v; want %v", patterns, ids(got), err, want)
		}
	}
	for patterns, want := range map[string]error{"a,d": ctcheck.ErrNoMatch, "[": ctcheck.ErrPattern, " , ": ctcheck.ErrNoTarget} {
		if got, err := ctcheck.Select(all, patterns); !errors.Is(err, want) || got != nil {
			t.Errorf("Select(%q) = %v, %v; want %v", patterns, ids(got), err, want)
		}
	}
}

// counting is a cheap target that counts its setups.
func counting(name string, setups *int) ctcheck.Target {
	return ctcheck.Target{Name: name, Impl: "test", Setup: func(*rand.Rand) (*ctcheck.Case, error) {
		*setups++
		return &ctcheck.Case{InputSize: 1, Input: func(int, []byte, *rand.Rand) {}, Op: func([]byte) {}}, nil
	}}
}

func TestRunAll(t *testing.T) {
	var setups int
	targets := []ctcheck.Target{counting("one", &setups), counting("two", &setups)}
	cfg := ctcheck.Config{N: 100, Batch: 100, EvictSize: 4096}
	rs, err := ctcheck.RunAll(context.Background(), targets, []bool{false, true}, cfg)
	if err != nil || len(rs) != 4 {
		t.Fatalf("RunAll: %d results, %v", len(rs), err)
	}
	for i, want := range []struct {
		target string
		evict  bool
	}{{"one", false}, {"one", true}, {"two", false}, {"two", true}} {
		if rs[i].Target != want.target || rs[i].Evict != want.evict {
			t.Errorf("result %d: %s evict=%t, want %s evict=%t", i, rs[i].Target, rs[i].Evict, want.target, want.evict)
		}
	}
	// A done context stops at the first run, whose partial result is dropped.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	setups = 0
	if rs, err := ctcheck.RunAll(ctx, targets, []bool{false, true}, cfg); !errors.Is(err, context.Canceled) || len(rs) != 0 || setups != 1 {
		t.Errorf("cancelled: %d results, %d setups, %v", len(rs), setups, err)
	}
	// Any other error stops RunAll too.
	bad := ctcheck.Target{Name: "bad", Impl: "test", Setup: func(*rand.Rand) (*ctcheck.Case, error) { return nil, errors.New("no") }}
	if rs, err := ctcheck.RunAll(context.Background(), append([]ctcheck.Target{bad}, targets...), []bool{false}, cfg); err == nil || len(rs) != 0 {
		t.Errorf("failing setup: %d results, %v", len(rs), err)
	}
}
