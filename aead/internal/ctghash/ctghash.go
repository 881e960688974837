// Package ctghash is a constant-time GHASH (the universal hash of AES-GCM) in
// the style of BearSSL's ghash_ctmul64: carry-less 64×64 multiplications are
// built from ordinary integer multiplications of operands with 3-bit holes
// between their bits, so carries never reach a bit that is kept. There are no
// tables and no data- or key-dependent branches; the time taken depends only
// on the length of the input. The Karatsuba split and the bit-reversed
// products that give the upper halves follow BearSSL's construction.
package ctghash

import (
	"encoding/binary"
	"math/bits"
)

// Size is the size of a GHASH key, block and output in bytes.
const Size = 16

// GHASH accumulates Y = (Y ⊕ Xᵢ)·H over 16-byte blocks in GF(2¹²⁸) with GCM's
// bit order. The zero value is not usable; call New or Init.
type GHASH struct {
	h1, h0, h2    uint64 // H as two big-endian halves, and h1⊕h0
	h1r, h0r, h2r uint64 // the same, bit-reversed
	y1, y0        uint64 // the accumulator
}

// New returns a GHASH keyed with the 16-byte H (in GCM, AES_K(0¹²⁸)).
// It panics if len(h) < 16.
func New(h []byte) *GHASH {
	g := new(GHASH)
	g.Init(h)
	return g
}

// Init keys g with H and clears its accumulator. It panics if len(h) < 16.
func (g *GHASH) Init(h []byte) {
	_ = h[15]
	g.h1 = binary.BigEndian.Uint64(h[0:])
	g.h0 = binary.BigEndian.Uint64(h[8:])
	g.h2 = g.h1 ^ g.h0
	g.h1r = bits.Reverse64(g.h1)
	g.h0r = bits.Reverse64(g.h0)
	g.h2r = g.h1r ^ g.h0r
	g.y1, g.y0 = 0, 0
}

// Reset clears the accumulator and keeps the key.
func (g *GHASH) Reset() { g.y1, g.y0 = 0, 0 }

// Update absorbs p as a sequence of 16-byte blocks; a partial final block is
// padded with zeros, as GCM pads the additional data and the ciphertext.
func (g *GHASH) Update(p []byte) {
	y1, y0 := g.y1, g.y0
	for len(p) >= Size {
		y1 ^= binary.BigEndian.Uint64(p[0:])
		y0 ^= binary.BigEndian.Uint64(p[8:])
		y1, y0 = g.mul(y1, y0)
		p = p[Size:]
	}
	if len(p) > 0 {
		var blk [Size]byte
		copy(blk[:], p)
		y1 ^= binary.BigEndian.Uint64(blk[0:])
		y0 ^= binary.BigEndian.Uint64(blk[8:])
		y1, y0 = g.mul(y1, y0)
	}
	g.y1, g.y0 = y1, y0
}

// UpdateLengths absorbs GCM's final block: the bit lengths of the additional
// data and of the ciphertext, as two big-endian 64-bit numbers.
func (g *GHASH) UpdateLengths(adBytes, ctBytes uint64) {
	y1 := g.y1 ^ adBytes*8
	y0 := g.y0 ^ ctBytes*8
	g.y1, g.y0 = g.mul(y1, y0)
}

// Sum appends the accumulator to b and returns the result. It does not change
// the state.
func (g *GHASH) Sum(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, g.y1)
	return binary.BigEndian.AppendUint64(b, g.y0)
}

// bmul64 returns the low 64 bits of the carry-less product of x and y. Each
// operand is split into four with 3-bit holes; any one output position sums at
// most 16 one-bit products, and only at positions ≥ 60, whose carries leave
// the 64-bit word, so the holes absorb every carry that could matter.
func bmul64(x, y uint64) uint64 {
	const (
		m0 = 0x1111111111111111
		m1 = 0x2222222222222222
		m2 = 0x4444444444444444
		m3 = 0x8888888888888888
	)
	x0, x1, x2, x3 := x&m0, x&m1, x&m2, x&m3
	y0, y1, y2, y3 := y&m0, y&m1, y&m2, y&m3
	z0 := x0*y0 ^ x1*y3 ^ x2*y2 ^ x3*y1
	z1 := x0*y1 ^ x1*y0 ^ x2*y3 ^ x3*y2
	z2 := x0*y2 ^ x1*y1 ^ x2*y0 ^ x3*y3
	z3 := x0*y3 ^ x1*y2 ^ x2*y1 ^ x3*y0
	return z0&m0 | z1&m1 | z2&m2 | z3&m3
}

// mul returns (y1:y0)·H reduced modulo GCM's polynomial, in GCM's reflected
// bit order.
func (g *GHASH) mul(y1, y0 uint64) (uint64, uint64) {
	y1r, y0r := bits.Reverse64(y1), bits.Reverse64(y0)
	y2, y2r := y0^y1, y0r^y1r

	// Karatsuba: three low-half products, and three more on the reversed
	// operands whose reversal is the high half.
	z0 := bmul64(y0, g.h0)
	z1 := bmul64(y1, g.h1)
	z2 := bmul64(y2, g.h2)
	z0h := bmul64(y0r, g.h0r)
	z1h := bmul64(y1r, g.h1r)
	z2h := bmul64(y2r, g.h2r)
	z2 ^= z0 ^ z1
	z2h ^= z0h ^ z1h
	z0h = bits.Reverse64(z0h) >> 1
	z1h = bits.Reverse64(z1h) >> 1
	z2h = bits.Reverse64(z2h) >> 1

	// The 256-bit product v3:v2:v1:v0 (reflected, so shift left by one).
	v0 := z0
	v1 := z0h ^ z2
	v2 := z1 ^ z2h
	v3 := z1h
	v3 = v3<<1 | v2>>63
	v2 = v2<<1 | v1>>63
	v1 = v1<<1 | v0>>63
	v0 <<= 1

	// Reduce modulo x¹²⁸ + x⁷ + x² + x + 1.
	v2 ^= v0 ^ v0>>1 ^ v0>>2 ^ v0>>7
	v1 ^= v0<<63 ^ v0<<62 ^ v0<<57
	v3 ^= v1 ^ v1>>1 ^ v1>>2 ^ v1>>7
	v2 ^= v1<<63 ^ v1<<62 ^ v1<<57
	return v3, v2
}
