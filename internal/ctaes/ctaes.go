// Package ctaes is a constant-time AES: a bitsliced implementation in the
// style of BearSSL's aes_ct64, written for atrest's portable paths.
//
// Four blocks are processed together in eight 64-bit words. The S-box is a
// Boolean circuit, ShiftRows and MixColumns are fixed shifts and rotations,
// and the key schedule runs its SubWord through the same circuit, so no
// memory access is indexed by, and no branch depends on, key or data bits.
// The time taken depends only on the key size and the number of blocks.
//
// The multi-block calls (EncryptBlocks4, DecryptBlocks4) cost about the same
// as one single-block call; modes that can batch (CBC decryption, CTR)
// should use them.
package ctaes

import (
	"encoding/binary"
	"errors"
)

// BlockSize is the AES block size in bytes.
const BlockSize = 16

// ErrKeySize is returned by New for a key that is not 16, 24 or 32 bytes.
var ErrKeySize = errors.New("ctaes: key must be 16, 24 or 32 bytes")

// Cipher is an expanded AES key. It implements crypto/cipher.Block and is
// safe for concurrent use once created.
type Cipher struct {
	rounds int
	sk     [8 * 15]uint64 // bitsliced round keys, 8 words per round key
}

// New expands a 16, 24 or 32 byte key (AES-128, -192, -256). The key is not
// retained. The time taken depends only on len(key).
func New(key []byte) (*Cipher, error) {
	c := new(Cipher)
	if err := c.init(key); err != nil {
		return nil, err
	}
	return c, nil
}

// Init is New into an existing Cipher, for callers that embed one and want
// no allocation.
func (c *Cipher) Init(key []byte) error { return c.init(key) }

var rcon = [10]uint32{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36}

// subWord applies the S-box to the four bytes of x.
func subWord(x uint32) uint32 {
	var q [8]uint64
	q[0] = uint64(x)
	ortho(&q)
	sbox(&q)
	ortho(&q)
	return uint32(q[0])
}

func (c *Cipher) init(key []byte) error {
	nk := len(key) / 4
	switch len(key) {
	case 16, 24, 32:
	default:
		return ErrKeySize
	}
	c.rounds = nk + 6
	nw := 4 * (c.rounds + 1)
	var w [60]uint32
	for i := 0; i < nk; i++ {
		w[i] = binary.LittleEndian.Uint32(key[4*i:])
	}
	// The loop structure depends only on the key size; every word goes
	// through the same operations whatever its value.
	tmp := w[nk-1]
	for i, j, k := nk, 0, 0; i < nw; i++ {
		if j == 0 {
			tmp = subWord(tmp<<24|tmp>>8) ^ rcon[k]
		} else if nk > 6 && j == 4 {
			tmp = subWord(tmp)
		}
		tmp ^= w[i-nk]
		w[i] = tmp
		if j++; j == nk {
			j, k = 0, k+1
		}
	}
	for r := 0; r <= c.rounds; r++ {
		var q [8]uint64
		q[0], q[4] = interleaveIn(w[4*r], w[4*r+1], w[4*r+2], w[4*r+3])
		q[1], q[2], q[3] = q[0], q[0], q[0]
		q[5], q[6], q[7] = q[4], q[4], q[4]
		ortho(&q)
		copy(c.sk[8*r:], q[:])
	}
	clear(w[:])
	return nil
}

// BlockSize returns 16.
func (c *Cipher) BlockSize() int { return BlockSize }

// Rounds returns the number of rounds: 10, 12 or 14.
func (c *Cipher) Rounds() int { return c.rounds }

// load bitslices n ≤ 4 blocks of src; the missing ones are zero.
func load(q *[8]uint64, src []byte, n int) {
	*q = [8]uint64{}
	for i := 0; i < n; i++ {
		b := src[16*i : 16*i+16]
		q[i], q[i+4] = interleaveIn(binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint32(b[4:]),
			binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:]))
	}
	ortho(q)
}

// store writes back the first n ≤ 4 blocks of q to dst.
func store(dst []byte, q *[8]uint64, n int) {
	ortho(q)
	for i := 0; i < n; i++ {
		b := dst[16*i : 16*i+16]
		w0, w1, w2, w3 := interleaveOut(q[i], q[i+4])
		binary.LittleEndian.PutUint32(b[0:], w0)
		binary.LittleEndian.PutUint32(b[4:], w1)
		binary.LittleEndian.PutUint32(b[8:], w2)
		binary.LittleEndian.PutUint32(b[12:], w3)
	}
}

// Encrypt encrypts the first block of src into dst, which may be the same
// slice. It panics if either is shorter than a block.
func (c *Cipher) Encrypt(dst, src []byte) {
	if len(src) < BlockSize || len(dst) < BlockSize {
		panic("ctaes: input not full block")
	}
	var q [8]uint64
	load(&q, src, 1)
	encrypt4(c.rounds, c.sk[:], &q)
	store(dst, &q, 1)
}

// Decrypt decrypts the first block of src into dst, which may be the same
// slice. It panics if either is shorter than a block.
func (c *Cipher) Decrypt(dst, src []byte) {
	if len(src) < BlockSize || len(dst) < BlockSize {
		panic("ctaes: input not full block")
	}
	var q [8]uint64
	load(&q, src, 1)
	decrypt4(c.rounds, c.sk[:], &q)
	store(dst, &q, 1)
}

// EncryptBlocks4 encrypts the four blocks of src (64 bytes) into dst in one
// bitsliced pass. dst and src may be the same slice. It panics if either is
// shorter than 64 bytes.
func (c *Cipher) EncryptBlocks4(dst, src []byte) {
	if len(src) < 4*BlockSize || len(dst) < 4*BlockSize {
		panic("ctaes: input not four full blocks")
	}
	var q [8]uint64
	load(&q, src, 4)
	encrypt4(c.rounds, c.sk[:], &q)
	store(dst, &q, 4)
}

// DecryptBlocks4 decrypts the four blocks of src (64 bytes) into dst in one
// bitsliced pass. dst and src may be the same slice. It panics if either is
// shorter than 64 bytes.
func (c *Cipher) DecryptBlocks4(dst, src []byte) {
	if len(src) < 4*BlockSize || len(dst) < 4*BlockSize {
		panic("ctaes: input not four full blocks")
	}
	var q [8]uint64
	load(&q, src, 4)
	decrypt4(c.rounds, c.sk[:], &q)
	store(dst, &q, 4)
}

// EncryptBlocks encrypts n = len(src)/16 ≤ 4 whole blocks (n ≥ 1) in one
// pass, for the tail of a batched mode. It panics if dst is shorter than src.
func (c *Cipher) EncryptBlocks(dst, src []byte) {
	n := len(src) / BlockSize
	if n < 1 || n > 4 || len(dst) < n*BlockSize {
		panic("ctaes: bad block count")
	}
	var q [8]uint64
	load(&q, src, n)
	encrypt4(c.rounds, c.sk[:], &q)
	store(dst, &q, n)
}

// DecryptBlocks is EncryptBlocks for decryption.
func (c *Cipher) DecryptBlocks(dst, src []byte) {
	n := len(src) / BlockSize
	if n < 1 || n > 4 || len(dst) < n*BlockSize {
		panic("ctaes: bad block count")
	}
	var q [8]uint64
	load(&q, src, n)
	decrypt4(c.rounds, c.sk[:], &q)
	store(dst, &q, n)
}
