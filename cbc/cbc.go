// Package cbc implements kube-apiserver's aescbc provider payload: AES-CBC
// with PKCS#7 padding and a random IV, laid out as IV(16) || ciphertext.
//
// aescbc has no MAC and no additional data: a stored value can be moved to
// another etcd key, and flipped bits go undetected except where they break the
// padding. Prefer aesgcm or secretbox for new clusters; this package exists so
// clusters that use aescbc can read, audit and migrate their data.
//
// Open checks the padding in constant time and returns ErrPadding for every
// bad-padding case, so the error and the timing do not tell the padding
// value (the padding-oracle shape of kube-apiserver's own check).
package cbc

import (
	"crypto/aes"
	"crypto/rand"
	"errors"
	"io"

	"github.com/atrest-dev/atrest/internal/alias"
	"github.com/atrest-dev/atrest/internal/impl"
)

// BlockSize is the AES block size, which is also the IV size.
const BlockSize = aes.BlockSize

// MaxPadding is the largest padding Open accepts. kube-apiserver reads any
// padding byte p with 1 ≤ p ≤ len(padded plaintext), so Open does too; Seal
// writes standard padding of 1..16 bytes.
const MaxPadding = 255

var (
	// ErrKeySize is returned by New for a key that is not 16, 24 or 32 bytes.
	ErrKeySize = errors.New("cbc: key must be 16, 24 or 32 bytes")
	// ErrTooShort is returned by Open for a payload shorter than an IV and one block.
	ErrTooShort = errors.New("cbc: stored data is shorter than the required size")
	// ErrBlockSize is returned by Open when the ciphertext after the IV is not a
	// whole number of blocks.
	ErrBlockSize = errors.New("cbc: stored data is not a multiple of the block size")
	// ErrPadding is returned by Open for every kind of bad padding. With aescbc
	// it is also what a wrong key or a tampered value usually produces.
	ErrPadding = errors.New("cbc: invalid padding")
)

// Cipher seals and opens aescbc payloads under one key. It is safe for
// concurrent use.
type Cipher struct {
	gen  genericCBC // the generic path (cbc_generic.go)
	std  stdlibCBC  // the standard library's path where it runs on AES instructions (cbc_stdlib.go)
	asm  asmKeys    // the assembly paths' key schedule (cbc_asm.go; empty elsewhere)
	rand io.Reader  // nil means crypto/rand
}

// The implementations of package "cbc" (internal/impl numbers them; the
// registry lists the available ones, fastest first, generic last):
//
//	VAES-512  amd64: decrypt 12 zmm × 4 blocks; SealBatch 16 or 32 lanes
//	VAES-256  amd64: decrypt 12 ymm × 2 blocks; SealBatch 16 lanes
//	AES-NI    amd64: decrypt 12 xmm blocks; SealBatch 8 lanes
//	stdlib    crypto/cipher's CBC modes over crypto/aes, wherever those run on
//	          AES instructions (cpu.Stdlib.AES: amd64, arm64, s390x, ppc64x)
//	generic   the bitsliced, constant-time internal/ctaes, everywhere
//
// Every hardware path encrypts a single value with the AES-NI loop: CBC
// encryption is one serial chain, and wider registers do not shorten it.
const (
	pathGeneric impl.Path = iota
	pathStdlib
	pathAESNI
	pathVAES256
	pathVAES512
)

// The plans of the dispatch in cbc_asm.go and cbc_noasm.go: encrypt and
// decrypt by the length of the CBC data, sealbatch by the plaintext bytes of
// the whole batch.
var encPlan, decPlan, batchPlan impl.Plan

func init() {
	// CPUs without rows in the table take the standard library's path
	// (generic where crypto/aes has no AES instructions).
	impl.Dispatch("cbc", pathStdlib,
		impl.Op{Name: "encrypt", Plan: &encPlan},
		impl.Op{Name: "decrypt", Plan: &decPlan},
		impl.Op{Name: "sealbatch", Plan: &batchPlan})
}

// New returns a Cipher for a 16, 24 or 32 byte AES key. The key is not
// retained; only its expanded schedules are: one for each path this CPU can
// run, whichever is selected now, so tests can switch paths on a Cipher.
func New(key []byte) (*Cipher, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, ErrKeySize
	}
	c := new(Cipher)
	if err := c.gen.init(key); err != nil {
		return nil, ErrKeySize
	}
	if err := c.std.init(key); err != nil {
		return nil, ErrKeySize
	}
	c.asm.init(key)
	return c, nil
}

// SealedLen returns the payload length Seal produces for n plaintext bytes:
// 16 + 16·(⌊n/16⌋+1).
func SealedLen(n int) int { return BlockSize + (n/BlockSize+1)*BlockSize }

// SealedLen is the method form of the package function, for callers that
// size buffers through an interface.
func (c *Cipher) SealedLen(n int) int { return SealedLen(n) }

// Seal appends IV || AES-CBC(plaintext || padding) to dst and returns the
// result. ad is ignored: aescbc authenticates nothing. plaintext may overlap
// dst's spare capacity. The only error is a failure of the random source.
func (c *Cipher) Seal(dst, plaintext, ad []byte) ([]byte, error) {
	ret, out := alias.SliceForAppend(dst, SealedLen(len(plaintext)))
	body := out[BlockSize:]
	copy(body, plaintext) // first: plaintext may lie where the IV goes
	pad := len(body) - len(plaintext)
	for i := len(plaintext); i < len(body); i++ {
		body[i] = byte(pad)
	}
	iv := out[:BlockSize]
	if err := c.readIV(iv); err != nil {
		clear(out)
		return dst, err
	}
	c.encrypt(iv, body)
	return ret, nil
}

func (c *Cipher) readIV(iv []byte) error {
	if c.rand == nil {
		_, err := rand.Read(iv) // never fails since Go 1.24
		return err
	}
	if _, err := io.ReadFull(c.rand, iv); err != nil {
		return errors.New("cbc: unable to read sufficient random bytes")
	}
	return nil
}

// Open decrypts payload (IV || ciphertext), checks and strips the padding,
// and appends the plaintext to dst. On error dst is returned unchanged and
// nothing decrypted is left in its spare capacity. It allocates at most
// len(payload)-16 bytes, and none when dst has room. ad is ignored.
//
// dst's spare capacity must not overlap payload: Open panics if it does.
func (c *Cipher) Open(dst, payload, ad []byte) ([]byte, error) {
	if len(payload) < 2*BlockSize {
		return dst, ErrTooShort
	}
	if len(payload)%BlockSize != 0 {
		return dst, ErrBlockSize
	}
	ret, out := alias.SliceForAppend(dst, len(payload)-BlockSize)
	if alias.AnyOverlap(out, payload) {
		panic("cbc: invalid buffer overlap")
	}
	c.decrypt(payload[:BlockSize], out, payload[BlockSize:])
	n, ok := unpad(out)
	if ok != 1 {
		clear(out)
		return dst, ErrPadding
	}
	return ret[:len(dst)+n], nil
}

// unpad checks the PKCS#7 padding of b (a non-empty multiple of the block
// size) the way kube-apiserver accepts it, without branching on or indexing
// by the padding value, and returns the unpadded length and ok == 1 if it is
// valid. The time taken depends only on len(b).
func unpad(b []byte) (n int, ok uint64) {
	l := uint64(len(b))
	p := uint64(b[len(b)-1])
	ok = lessOrEq(1, p) & lessOrEq(p, l)
	for i := uint64(1); i <= min(l, MaxPadding); i++ {
		inPad := lessOrEq(i, p)
		same := equal(uint64(b[l-i]), p)
		ok &= same | (inPad ^ 1)
	}
	return int(l - p&(0-ok)), ok
}

// lessOrEq returns 1 if x <= y and 0 otherwise, for x, y < 2^63.
func lessOrEq(x, y uint64) uint64 { return (x - y - 1) >> 63 }

// equal returns 1 if x == y and 0 otherwise.
func equal(x, y uint64) uint64 {
	d := x ^ y
	return ((d | (0 - d)) >> 63) ^ 1
}
