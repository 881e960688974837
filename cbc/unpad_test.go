package cbc

import (
	"bytes"
	"testing"
)

// unpadReference is kube-apiserver's check, written plainly.
func unpadReference(b []byte) (int, bool) {
	p := int(b[len(b)-1])
	if p == 0 || p > len(b) {
		return 0, false
	}
	for _, c := range b[len(b)-p:] {
		if int(c) != p {
			return 0, false
		}
	}
	return len(b) - p, true
}

// TestUnpadExhaustive compares the constant-time check with the plain one for
// every padding byte and every position of a single wrong byte.
func TestUnpadExhaustive(t *testing.T) {
	for _, blocks := range []int{1, 2, 3, 16, 17} {
		for p := 0; p < 256; p++ {
			b := bytes.Repeat([]byte{byte(p)}, blocks*16)
			for wrong := -1; wrong < len(b); wrong++ {
				c := bytes.Clone(b)
				if wrong >= 0 {
					c[wrong] ^= 0x5a
				}
				n, ok := unpad(c)
				wn, wok := unpadReference(c)
				if (ok == 1) != wok || (wok && n != wn) {
					t.Fatalf("blocks=%d p=%d wrong=%d: got (%d,%d), want (%d,%v)", blocks, p, wrong, n, ok, wn, wok)
				}
			}
		}
	}
}

func TestCTHelpers(t *testing.T) {
	vals := []uint64{0, 1, 2, 15, 16, 17, 255, 256, 1 << 40, 1<<63 - 1}
	for _, x := range vals {
		for _, y := range vals {
			if got, want := lessOrEq(x, y), x <= y; (got == 1) != want || got > 1 {
				t.Errorf("lessOrEq(%d,%d) = %d", x, y, got)
			}
			if got, want := equal(x, y), x == y; (got == 1) != want || got > 1 {
				t.Errorf("equal(%d,%d) = %d", x, y, got)
			}
		}
	}
}
