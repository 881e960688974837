//go:build amd64 && !purego

package aead

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/nacl/secretbox"
	xpoly "golang.org/x/crypto/poly1305"
	"golang.org/x/crypto/salsa20" //nolint:staticcheck // deprecated, but the reference here
	"golang.org/x/crypto/salsa20/salsa"
)

func randBytes(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// The 16-block kernel against x/crypto's Salsa20, over several chunks, with
// the counter starting anywhere below the top 32 bits' carry.
func TestSalsa20XOR16(t *testing.T) {
	if !hasSecretboxAVX512 {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, start := range []uint32{0, 1, 16, 12345, 1<<32 - 64} {
		var key [32]byte
		var nonce [8]byte
		randBytes(rng, key[:])
		randBytes(rng, nonce[:])
		var st [16]uint32
		c := &salsa.Sigma
		st[0], st[5] = binary.LittleEndian.Uint32(c[0:]), binary.LittleEndian.Uint32(c[4:])
		st[10], st[15] = binary.LittleEndian.Uint32(c[8:]), binary.LittleEndian.Uint32(c[12:])
		for i := 0; i < 4; i++ {
			st[1+i] = binary.LittleEndian.Uint32(key[4*i:])
			st[11+i] = binary.LittleEndian.Uint32(key[16+4*i:])
		}
		st[6], st[7] = binary.LittleEndian.Uint32(nonce[0:]), binary.LittleEndian.Uint32(nonce[4:])
		st[8], st[9] = start, 7

		in := make([]byte, 4*1024)
		randBytes(rng, in)
		got := make([]byte, len(in))
		salsa20XOR16(&got[0], &in[0], 4, &st)

		var ctr [16]byte
		copy(ctr[:8], nonce[:])
		binary.LittleEndian.PutUint64(ctr[8:], uint64(7)<<32|uint64(start))
		want := make([]byte, len(in))
		salsa.XORKeyStream(want, in, &ctr, &key)
		if !bytes.Equal(got, want) {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("counter %d: first difference at byte %d (block %d)", start, i, i/64)
				}
			}
		}
		// In place.
		salsa20XOR16(&in[0], &in[0], 4, &st)
		if !bytes.Equal(in, want) {
			t.Fatalf("counter %d: in-place result differs", start)
		}
	}
}

// The IFMA Poly1305 path against x/crypto at every length to 3 KiB, with
// random and all-ones keys and messages (the carries' worst cases).
func TestPoly1305IFMA(t *testing.T) {
	if !hasSecretboxAVX512 {
		t.Skip("no AVX-512 IFMA on this CPU")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	msg := make([]byte, 3*1024)
	for n := 0; n <= len(msg); n++ {
		var key [32]byte
		randBytes(rng, key[:])
		randBytes(rng, msg[:n])
		switch n % 3 {
		case 1:
			for i := range key {
				key[i] = 0xff
			}
		case 2:
			for i := range msg[:n] {
				msg[i] = 0xff
			}
		}
		var want [16]byte
		xpoly.Sum(&want, msg[:n], &key)
		if got := poly1305Sum(msg[:n], &key); got != want {
			t.Fatalf("len %d: tag %x, want %x", n, got, want)
		}
	}
}

// The AVX-512 path itself, below the dispatch threshold too, against
// x/crypto at every length to 4 KiB: seal, open, in-place open, and a
// flipped bit in the tag or ciphertext.
func TestSecretboxAVX512AllLengths(t *testing.T) {
	if !hasSecretboxAVX512 {
		t.Skip("no AVX-512 IFMA on this CPU")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	msg := make([]byte, 4096)
	randBytes(rng, msg)
	s := &Secretbox{}
	var nonce [24]byte
	for n := 0; n <= len(msg); n++ {
		randBytes(rng, s.key[:])
		randBytes(rng, nonce[:])
		want := secretbox.Seal([]byte("pre"), msg[:n], &nonce, &s.key)
		got := s.sealBoxAVX512([]byte("pre"), msg[:n], &nonce)
		if !bytes.Equal(got, want) {
			t.Fatalf("len %d: sealBoxAVX512 = %x\nwant %x", n, got, want)
		}
		box := want[3:]
		pt, ok := s.openBoxAVX512([]byte("pre"), box, &nonce)
		if !ok || string(pt[:3]) != "pre" || !bytes.Equal(pt[3:], msg[:n]) {
			t.Fatalf("len %d: openBoxAVX512 = %x, %v", n, pt, ok)
		}
		inPlace := bytes.Clone(box)
		pt, ok = s.openBoxAVX512(inPlace[secretbox.Overhead:secretbox.Overhead], inPlace, &nonce)
		if !ok || !bytes.Equal(pt, msg[:n]) {
			t.Fatalf("len %d: in-place openBoxAVX512 = %x, %v", n, pt, ok)
		}
		bad := bytes.Clone(box)
		bad[rng.IntN(len(bad))] ^= 1 << rng.IntN(8)
		out := make([]byte, 0, n)
		if pt, ok := s.openBoxAVX512(out, bad, &nonce); ok || pt != nil || !bytes.Equal(out[:n], make([]byte, n)) {
			t.Fatalf("len %d: tampered openBoxAVX512 = %x, %v", n, pt, ok)
		}
	}
}

// XSalsa20 (HSalsa20 subkey, then Salsa20 from byte 32 of block 0) against
// x/crypto/salsa20 with a 24-byte nonce, including counters past block 16
// and a tail that is not whole blocks.
func TestXSalsa20AgainstXCrypto(t *testing.T) {
	if !hasSecretboxAVX512 {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	src := make([]byte, 70000)
	randBytes(rng, src)
	for _, n := range []int{0, 1, 31, 32, 33, 991, 992, 993, 2015, 2016, 2017, 5000, 70000} {
		var key [32]byte
		var nonce [24]byte
		randBytes(rng, key[:])
		randBytes(rng, nonce[:])
		want := make([]byte, 32+n)
		copy(want[32:], src[:n])
		salsa20.XORKeyStream(want, want, nonce[:], &key)

		var st [16]uint32
		var polyKey [32]byte
		xsalsaState(&st, &key, &nonce)
		got := make([]byte, n)
		xsalsaXOR(got, src[:n], &st, &polyKey)
		if !bytes.Equal(polyKey[:], want[:32]) || !bytes.Equal(got, want[32:]) {
			t.Fatalf("len %d: keystream differs from x/crypto's XSalsa20", n)
		}
	}
}
