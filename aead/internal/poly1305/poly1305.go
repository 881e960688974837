// Package poly1305 is a constant-time, portable Poly1305 in radix 2^44: the
// scalar half of aead's AVX-512 IFMA Poly1305, which keeps its eight
// accumulators in the same radix. It computes the key's powers, folds the
// vector lanes together, and absorbs the blocks the vector code leaves over.
//
// A value is three limbs v = e[0] + e[1]*2^44 + e[2]*2^88 (44, 44 and 42
// bits when normalized) modulo p = 2^130 - 5. Nothing branches on or indexes
// by secret data.
package poly1305

import (
	"encoding/binary"
	"math/bits"
)

const (
	mask44 = 1<<44 - 1
	mask42 = 1<<42 - 1
)

// Elem is a value modulo 2^130-5 in radix 2^44. Functions here accept limbs
// up to 2^58 and return limbs below 2^45 (partially reduced).
type Elem [3]uint64

// KeyR returns r, the clamped first half of a one-time key.
func KeyR(key *[32]byte) Elem {
	lo := binary.LittleEndian.Uint64(key[0:8]) & 0x0ffffffc0fffffff
	hi := binary.LittleEndian.Uint64(key[8:16]) & 0x0ffffffc0ffffffc
	return Elem{lo & mask44, (lo>>44 | hi<<20) & mask44, hi >> 24}
}

type u128 struct{ hi, lo uint64 }

func (a *u128) mulAdd(x, y uint64) {
	hi, lo := bits.Mul64(x, y)
	var c uint64
	a.lo, c = bits.Add64(a.lo, lo, 0)
	a.hi += hi + c
}

func (a *u128) add(x uint64) {
	var c uint64
	a.lo, c = bits.Add64(a.lo, x, 0)
	a.hi += c
}

// Mul returns a*b mod 2^130-5, partially reduced. With 2^132 = 20 (mod p):
//
//	d0 = a0 b0 + a1 20b2 + a2 20b1
//	d1 = a0 b1 + a1 b0   + a2 20b2
//	d2 = a0 b2 + a1 b1   + a2 b0
func Mul(a, b Elem) Elem {
	s1, s2 := 20*b[1], 20*b[2]
	var d0, d1, d2 u128
	d0.mulAdd(a[0], b[0])
	d0.mulAdd(a[1], s2)
	d0.mulAdd(a[2], s1)
	d1.mulAdd(a[0], b[1])
	d1.mulAdd(a[1], b[0])
	d1.mulAdd(a[2], s2)
	d2.mulAdd(a[0], b[2])
	d2.mulAdd(a[1], b[1])
	d2.mulAdd(a[2], b[0])

	var h Elem
	h[0] = d0.lo & mask44
	d1.add(d0.lo>>44 | d0.hi<<20)
	h[1] = d1.lo & mask44
	d2.add(d1.lo>>44 | d1.hi<<20)
	h[2] = d2.lo & mask42
	h[0] += 5 * (d2.lo>>42 | d2.hi<<22)
	h[1] += h[0] >> 44
	h[0] &= mask44
	return h
}

// Carry returns h with its limbs carried into their normal widths, the
// excess over 2^130 folded back times 5. The value mod p is unchanged.
func Carry(h Elem) Elem {
	h[1] += h[0] >> 44
	h[0] &= mask44
	h[2] += h[1] >> 44
	h[1] &= mask44
	h[0] += 5 * (h[2] >> 42)
	h[2] &= mask42
	h[1] += h[0] >> 44
	h[0] &= mask44
	return h
}

// Blocks absorbs the message m into h under r, h = (h + m_i) * r for each
// 16-byte block m_i with its 2^128 pad bit; a final partial block is padded
// with one 1 byte and zeros instead, as RFC 8439 has it.
func (h *Elem) Blocks(r Elem, m []byte) {
	for len(m) >= 16 {
		lo := binary.LittleEndian.Uint64(m[0:8])
		hi := binary.LittleEndian.Uint64(m[8:16])
		h[0] += lo & mask44
		h[1] += (lo>>44 | hi<<20) & mask44
		h[2] += hi>>24 | 1<<40
		*h = Mul(*h, r)
		m = m[16:]
	}
	if len(m) > 0 {
		var buf [16]byte
		copy(buf[:], m)
		buf[len(m)] = 1
		lo := binary.LittleEndian.Uint64(buf[0:8])
		hi := binary.LittleEndian.Uint64(buf[8:16])
		h[0] += lo & mask44
		h[1] += (lo>>44 | hi<<20) & mask44
		h[2] += hi >> 24
		*h = Mul(*h, r)
	}
}

// Tag returns the authenticator (h mod p) + s mod 2^128, where s is the
// second half of the one-time key.
func Tag(h Elem, key *[32]byte) [16]byte {
	h = Carry(Carry(h))
	h[1] += h[0] >> 44
	h[0] &= mask44
	h[2] += h[1] >> 44
	h[1] &= mask44

	// h is below 2^130 now; subtract p if h >= p, that is if h+5 >= 2^130.
	g0 := h[0] + 5
	g1 := h[1] + g0>>44
	g0 &= mask44
	g2 := h[2] + g1>>44
	g1 &= mask44
	sel := -(g2 >> 42) // all ones when h >= p
	g2 &= mask42
	h[0] = h[0]&^sel | g0&sel
	h[1] = h[1]&^sel | g1&sel
	h[2] = h[2]&^sel | g2&sel

	lo := h[0] | h[1]<<44
	hi := h[1]>>20 | h[2]<<24
	var c uint64
	lo, c = bits.Add64(lo, binary.LittleEndian.Uint64(key[16:24]), 0)
	hi, _ = bits.Add64(hi, binary.LittleEndian.Uint64(key[24:32]), c)
	var out [16]byte
	binary.LittleEndian.PutUint64(out[0:8], lo)
	binary.LittleEndian.PutUint64(out[8:16], hi)
	return out
}

// Sum returns the Poly1305 tag of m under the one-time key.
func Sum(m []byte, key *[32]byte) [16]byte {
	var h Elem
	h.Blocks(KeyR(key), m)
	return Tag(h, key)
}
