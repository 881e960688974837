package cbc_test

import (
	"slices"
	"testing"

	"github.com/atrest-dev/atrest/internal/cryptotest"
	"github.com/atrest-dev/atrest/internal/impl"
)

// TestGenericIsExpected fails if the generic path runs at any length while
// the CPU has AES instructions, or anything else runs without them (and
// always under the purego tag). Under qemu-aarch64 this is the test that
// shows arm64 takes the standard library's path.
func TestGenericIsExpected(t *testing.T) {
	cryptotest.CheckGenericIsExpected(t, "cbc", cryptotest.HardwareAES())
}

// TestSelect checks that every listed implementation can be forced and is
// then the only one in use, and that Reset returns to the table.
func TestSelect(t *testing.T) {
	list := impl.List("cbc")
	if list[len(list)-1] != impl.Generic {
		t.Fatalf("List = %v, want generic last", list)
	}
	auto := impl.Describe("cbc")
	cryptotest.Each(t, "cbc", func(t *testing.T, name string) {
		if got := impl.Uses("cbc"); !slices.Equal(got, []string{name}) {
			t.Errorf("Select(%q): in use %v", name, got)
		}
	})
	if got := impl.Describe("cbc"); got != auto {
		t.Errorf("after Each: %q, want %q", got, auto)
	}
	t.Logf("cbc: %v; auto: %s", list, auto)
}
