// Package cryptotest holds the tests and benchmark scaffolding that every
// primitive of atrest (cbc, aead's GCM and secretbox) shares: a contract
// suite for the Seal/Open shape run over every registered implementation,
// published vectors through every implementation, the check that the generic
// path runs exactly where the CPU has no AES instructions, and the size ladder
// and implementation list of the package benchmarks. It is modelled on the
// standard library's crypto/internal/cryptotest and is imported by tests only.
package cryptotest

import (
	"slices"
	"testing"

	"github.com/atrest-dev/atrest/internal/impl"
)

// Each runs f as subtest "impl=<name>" once for every implementation of
// package pkg (internal/impl) that this CPU can run, with that one forced at
// every length, generic last; pkg returns to automatic dispatch afterwards.
func Each(t *testing.T, pkg string, f func(t *testing.T, name string)) {
	t.Helper()
	impl.Each(pkg, func(name string) {
		t.Run("impl="+name, func(t *testing.T) { f(t, name) })
	})
}

// Auto is the name benchmarks and Use give automatic dispatch (the table).
const Auto = "auto"

// Impls returns the implementations a package benchmark measures: Auto,
// then every implementation of pkg this CPU can run, generic last.
func Impls(pkg string) []string {
	return append([]string{Auto}, impl.List(pkg)...)
}

// Use makes pkg take implementation name (Auto: the dispatch table) for the
// rest of tb, and returns pkg to automatic dispatch when tb ends.
func Use(tb testing.TB, pkg, name string) {
	tb.Helper()
	tb.Cleanup(func() { impl.Reset(pkg) })
	if name == Auto {
		impl.Reset(pkg)
		return
	}
	if !impl.Select(pkg, name) {
		tb.Fatalf("%s: implementation %q not available on this CPU", pkg, name)
	}
}

// A Size is one rung of the benchmark ladder.
type Size struct {
	Name string
	N    int
}

// Sizes is the ladder every package benchmark measures, 0 B to 1 MiB: the
// short values most Secrets and ConfigMaps have, where per-call costs decide,
// up to the bulk rates. Dispatch tables place their thresholds on it.
var Sizes = []Size{
	{"0B", 0}, {"16B", 16}, {"64B", 64}, {"128B", 128}, {"256B", 256}, {"512B", 512},
	{"1KiB", 1 << 10}, {"4KiB", 4 << 10}, {"16KiB", 16 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20},
}

// SizesUpTo returns the rungs of Sizes of at most n bytes.
func SizesUpTo(n int) []Size {
	i := slices.IndexFunc(Sizes, func(s Size) bool { return s.N > n })
	if i < 0 {
		return Sizes
	}
	return Sizes[:i]
}

// CheckGenericIsExpected fails t unless package pkg, under automatic
// dispatch, takes its generic path exactly where it must: at no length when
// hardware is true (the CPU has the AES instructions the standard library
// uses, so a hardware path is registered), and at every length otherwise
// (no AES instructions, the purego build, GODEBUG=atrestasm=0). It is the
// test form of the standard library's checkGenericIsExpected.
func CheckGenericIsExpected(t *testing.T, pkg string, hardware bool) {
	t.Helper()
	impl.Reset(pkg)
	uses := impl.Uses(pkg)
	list := impl.List(pkg)
	switch {
	case hardware && slices.Contains(uses, impl.Generic):
		t.Errorf("%s takes the generic path (%s) although this CPU has AES instructions; implementations: %v",
			pkg, impl.Describe(pkg), list)
	case hardware && !slices.Contains(list, "stdlib"):
		t.Errorf("%s has no stdlib path registered although this CPU has AES instructions; implementations: %v", pkg, list)
	case !hardware && !slices.Equal(uses, []string{impl.Generic}):
		t.Errorf("%s takes %s although this CPU (or build) has no AES instructions", pkg, impl.Describe(pkg))
	case !hardware && !slices.Equal(list, []string{impl.Generic}):
		t.Errorf("%s lists %v although this CPU (or build) has no AES instructions", pkg, list)
	}
	t.Logf("%s: %s; implementations %v", pkg, impl.Describe(pkg), list)
}
