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
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"io"

	"github.com/atrest-dev/atrest/internal/alias"
	"github.com/atrest-dev/atrest/internal/cpu"
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
	std  cipher.Block // crypto/aes, for the stdlib path
	ref  cipher.Block // the portable path's block cipher
	rand io.Reader    // nil means crypto/rand
	hw   hwKeys       // the assembly paths' schedule (cbc_dispatch.go)
}

// New returns a Cipher for a 16, 24 or 32 byte AES key. The key is not
// retained; only its expanded schedule is.
func New(key []byte) (*Cipher, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, ErrKeySize
	}
	ref, err := newPortable(key)
	if err != nil {
		return nil, ErrKeySize
	}
	// Without AES-NI crypto/aes expands keys with tables (ctcheck measures
	// the leak), and the stdlib path cannot be selected: never run it.
	std := ref
	if cpu.X86.HasAES {
		if std, err = newStdlib(key); err != nil {
			return nil, ErrKeySize
		}
	}
	c := &Cipher{std: std, ref: ref}
	initHW(c, key)
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
