//go:build amd64 && !purego

package aesni

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/atrest-dev/atrest/internal/cpu"
)

// gmul multiplies in GF(2^8) modulo x^8+x^4+x^3+x+1 (test reference only).
func gmul(a, b byte) byte {
	var p byte
	for ; b != 0; b >>= 1 {
		if b&1 != 0 {
			p ^= a
		}
		a = a<<1 ^ 0x1b*(a>>7)
	}
	return p
}

// sbox is FIPS 197's S-box from its definition: inverse, then the affine map.
func sbox(x byte) byte {
	inv := byte(0)
	for y := 1; y < 256; y++ {
		if gmul(x, byte(y)) == 1 {
			inv = byte(y)
		}
	}
	r := inv
	for i := 1; i <= 4; i++ {
		r ^= inv<<i | inv>>(8-i)
	}
	return r ^ 0x63
}

// refExpand is FIPS 197's KeyExpansion, written plainly.
func refExpand(key []byte) (enc []byte, nr int) {
	nk := len(key) / 4
	nr = nk + 6
	w := make([]uint32, 4*(nr+1))
	for i := 0; i < nk; i++ {
		w[i] = binary.BigEndian.Uint32(key[4*i:])
	}
	sub := func(x uint32) uint32 {
		return uint32(sbox(byte(x>>24)))<<24 | uint32(sbox(byte(x>>16)))<<16 | uint32(sbox(byte(x>>8)))<<8 | uint32(sbox(byte(x)))
	}
	rcon := byte(1)
	for i := nk; i < len(w); i++ {
		t := w[i-1]
		switch {
		case i%nk == 0:
			t = sub(t<<8|t>>24) ^ uint32(rcon)<<24
			rcon = gmul(rcon, 2)
		case nk > 6 && i%nk == 4:
			t = sub(t)
		}
		w[i] = w[i-nk] ^ t
	}
	enc = make([]byte, 4*len(w))
	for i, x := range w {
		binary.BigEndian.PutUint32(enc[4*i:], x)
	}
	return enc, nr
}

// invMixColumns is FIPS 197's InvMixColumns on one 16-byte round key.
func invMixColumns(k []byte) []byte {
	out := make([]byte, 16)
	for c := 0; c < 4; c++ {
		a := k[4*c : 4*c+4]
		for r := 0; r < 4; r++ {
			out[4*c+r] = gmul(a[r], 14) ^ gmul(a[(r+1)%4], 11) ^ gmul(a[(r+2)%4], 13) ^ gmul(a[(r+3)%4], 9)
		}
	}
	return out
}

func requireAESNI(t *testing.T) {
	if !cpu.X86.HasAES {
		t.Skip("no AES-NI on this CPU")
	}
}

// FIPS 197 Appendix A: the last round key of each example expansion.
func TestFIPS197(t *testing.T) {
	requireAESNI(t)
	for _, v := range []struct{ key, last string }{
		{"2b7e151628aed2a6abf7158809cf4f3c", "d014f9a8c9ee2589e13f0cc8b6630ca6"},
		{"8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", "e98ba06f448c773c8ecc720401002202"},
		{"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", "fe4890d1e6188d0b046df344706c631e"},
	} {
		key, _ := hex.DecodeString(v.key)
		var s Schedule
		s.Expand(key)
		if got := hex.EncodeToString(s.Enc[16*s.Rounds : 16*s.Rounds+16]); got != v.last {
			t.Errorf("AES-%d: last round key %s, want %s", 8*len(key), got, v.last)
		}
		if got := hex.EncodeToString(s.Dec[:16]); got != v.last {
			t.Errorf("AES-%d: first decryption round key %s, want %s", 8*len(key), got, v.last)
		}
	}
}

// TestAgainstReference compares both schedules with FIPS 197's definitions
// for random keys of each size.
func TestAgainstReference(t *testing.T) {
	requireAESNI(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		key := make([]byte, []int{16, 24, 32}[i%3])
		for j := range key {
			key[j] = byte(rng.Uint32())
		}
		enc, nr := refExpand(key)
		var s Schedule
		s.Expand(key)
		if s.Rounds != nr || !bytes.Equal(s.Enc[:len(enc)], enc) {
			t.Fatalf("key %x: encryption schedule differs\n got %x\nwant %x", key, s.Enc[:len(enc)], enc)
		}
		for r := 0; r <= nr; r++ {
			want := enc[16*(nr-r) : 16*(nr-r)+16]
			if r != 0 && r != nr {
				want = invMixColumns(want)
			}
			if got := s.Dec[16*r : 16*r+16]; !bytes.Equal(got, want) {
				t.Fatalf("key %x: decryption round key %d = %x, want %x", key, r, got, want)
			}
		}
	}
}

func TestKeySizePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a 20-byte key did not panic")
		}
	}()
	var s Schedule
	s.Expand(make([]byte, 20))
}
