//go:build !linux

package cryptotest

import "testing"

// CPUTime reports nothing where there is no per-thread CPU clock: sec/op
// only (see the Linux version).
func CPUTime(b *testing.B) (done func()) { return func() {} }
