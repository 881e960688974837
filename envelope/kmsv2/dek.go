package kmsv2

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"
	"sync/atomic"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/internal/alias"
)

// Sizes of the two data layouts.
const (
	// InfoSize is the HKDF info that starts an HKDF_SHA256_XNONCE_AES_GCM_SEED
	// value's data; NonceSize and TagSize are AES-GCM's.
	InfoSize  = 32
	NonceSize = aead.GCMNonceSize
	TagSize   = aead.GCMTagSize
	// MinSeedSize is the shortest seed kube-apiserver accepts.
	MinSeedSize = 32
	// CounterStart is where a write DEK's nonce counter starts: the first
	// value is written with counter CounterStart+1, and the counter never
	// passes 2^64-1 (writes then fail with ErrNonceExhausted).
	CounterStart = 1_000_000_000
)

var (
	// ErrNonceExhausted: a write DEK's nonce counter reached 2^64-1. No
	// nonce is ever reused; the next rotation brings a fresh DEK.
	ErrNonceExhausted = errors.New("kmsv2: nonce counter exhausted")
	// ErrShortData: encryptedData is shorter than its layout's overhead.
	ErrShortData = errors.New("kmsv2: the stored data was shorter than the required size")
	// ErrDEK: the plugin's plaintext for an encrypted DEK source is not a
	// usable DEK (16, 24 or 32 bytes) or seed (at least 32 bytes).
	ErrDEK = errors.New("kmsv2: invalid DEK or seed from the plugin")
)

// Overhead returns how many bytes the data layout of typ adds to the
// plaintext: NonceSize+TagSize (28) for AESGCMKey, InfoSize+NonceSize+
// TagSize (60) for HKDFSeed. An encryptedData of n bytes holds n-Overhead
// plaintext bytes if it authenticates. Other types, which Parse refuses,
// get AESGCMKey's.
func Overhead(typ DEKSourceType) int {
	if typ == HKDFSeed {
		return InfoSize + NonceSize + TagSize
	}
	return NonceSize + TagSize
}

// DataLayout describes the encryptedData of typ in one line, for people:
// "nonce(12) || ciphertext || tag(16)" for AESGCMKey and
// "info(32) || nonce(12) || ciphertext || tag(16)" for HKDFSeed.
func DataLayout(typ DEKSourceType) string {
	l := fmt.Sprintf("nonce(%d) || ciphertext || tag(%d)", NonceSize, TagSize)
	if typ == HKDFSeed {
		l = fmt.Sprintf("info(%d) || ", InfoSize) + l
	}
	return l
}

// dek is a decrypted DEK source: it opens the data of every value written
// with it and, as a write state's DEK, seals new values. A dek built from a
// plugin's Decrypt response is only ever used to open: an AES_GCM_KEY
// counter cannot be resumed from storage.
type dek struct {
	typ    DEKSourceType
	gcm    *aead.GCM        // AESGCMKey
	nonces aead.NonceSource // AESGCMKey: the write counter, or noSealing
	seed   *seedKey         // HKDFSeed
}

// newDEK builds the dek of typ from its plaintext key or seed; nonces is
// the counter for a write DEK of type AESGCMKey, nil otherwise.
func newDEK(typ DEKSourceType, key []byte, nonces aead.NonceSource) (*dek, error) {
	switch typ {
	case AESGCMKey:
		if nonces == nil {
			nonces = noSealing{}
		}
		g, err := aead.NewGCMWithNonces(key, nonces)
		if err != nil {
			return nil, fmt.Errorf("%w: AES key of %d bytes", ErrDEK, len(key))
		}
		return &dek{typ: typ, gcm: g, nonces: nonces}, nil
	case HKDFSeed:
		if len(key) < MinSeedSize {
			return nil, fmt.Errorf("%w: invalid seed length %d used for key generation", ErrDEK, len(key))
		}
		return &dek{typ: typ, seed: newSeedKey(key)}, nil
	}
	return nil, fmt.Errorf("%w: %d", ErrDEKSourceType, int32(typ))
}

func (d *dek) sealedLen(n int) int { return n + Overhead(d.typ) }

// seal appends the data of a new value to dst.
func (d *dek) seal(dst, plaintext, ad []byte) ([]byte, error) {
	if d.typ == AESGCMKey {
		return d.gcm.Seal(dst, plaintext, ad)
	}
	return d.seed.seal(dst, plaintext, ad)
}

// open appends the plaintext of a value's data to dst.
func (d *dek) open(dst, data, ad []byte) ([]byte, error) {
	if len(data) < Overhead(d.typ) {
		return dst, ErrShortData
	}
	if d.typ == AESGCMKey {
		return d.gcm.Open(dst, data, ad)
	}
	return d.seed.open(dst, data, ad)
}

// noSealing is the nonce source of a DEK that came from storage: it refuses.
type noSealing struct{}

var errReadOnly = errors.New("kmsv2: a DEK read from storage never encrypts")

func (noSealing) FillNonce([]byte) error { return errReadOnly }

// counterNonces is an AES_GCM_KEY write DEK's nonce source, laid out as
// kube-apiserver lays it out: 4 fresh random bytes || the counter, uint64
// little endian, counting from CounterStart+1. The counter never wraps.
type counterNonces struct{ n atomic.Uint64 }

func newCounterNonces() *counterNonces {
	c := new(counterNonces)
	c.n.Store(CounterStart)
	return c
}

func (c *counterNonces) FillNonce(b []byte) error {
	if len(b) != NonceSize {
		return fmt.Errorf("kmsv2: counter nonces are %d bytes", NonceSize)
	}
	for {
		v := c.n.Load()
		if v == 1<<64-1 {
			return ErrNonceExhausted
		}
		if c.n.CompareAndSwap(v, v+1) {
			binary.LittleEndian.PutUint64(b[4:], v+1)
			break
		}
	}
	_, err := rand.Read(b[:4]) // never fails since Go 1.24
	return err
}

// seedKey is an HKDF_SHA256_XNONCE_AES_GCM_SEED seed. Each value's key is
// HKDF-Expand(SHA-256, seed, info, 32), which for one block is
// HMAC-SHA256(seed, info || 0x01); the HMACs are pooled, so deriving a key
// is two SHA-256 blocks and no allocation.
type seedKey struct{ hmacs sync.Pool }

type seedHMAC struct {
	h   hash.Hash
	key [32]byte // the derived key, wiped after each use
}

func newSeedKey(seed []byte) *seedKey {
	s := make([]byte, len(seed))
	copy(s, seed)
	k := new(seedKey)
	k.hmacs.New = func() any { return &seedHMAC{h: hmac.New(sha256.New, s)} }
	return k
}

var hkdfCounter = []byte{1} // HKDF-Expand's T(1) block counter

// derive returns pooled state holding the key for info; put it back with
// release, which wipes the key.
func (k *seedKey) derive(info []byte) *seedHMAC {
	s := k.hmacs.Get().(*seedHMAC)
	s.h.Reset()
	s.h.Write(info)
	s.h.Write(hkdfCounter)
	s.h.Sum(s.key[:0])
	return s
}

func (k *seedKey) release(s *seedHMAC) {
	clear(s.key[:])
	k.hmacs.Put(s)
}

// seal appends info(32) || nonce(12) || ciphertext || tag(16) to dst, with
// info and nonce fresh from crypto/rand.
func (k *seedKey) seal(dst, plaintext, ad []byte) ([]byte, error) {
	ret, out := alias.SliceForAppend(dst, InfoSize+NonceSize+len(plaintext)+TagSize)
	head := out[:InfoSize+NonceSize]
	if _, err := rand.Read(head); err != nil {
		return dst, err
	}
	s := k.derive(head[:InfoSize])
	_, err := aead.SealGCMWithKey(head, s.key[:], head[InfoSize:], plaintext, ad)
	k.release(s)
	if err != nil {
		return dst, err
	}
	return ret, nil
}

func (k *seedKey) open(dst, data, ad []byte) ([]byte, error) {
	s := k.derive(data[:InfoSize])
	out, err := aead.OpenGCMWithKey(dst, s.key[:], data[InfoSize:InfoSize+NonceSize], data[InfoSize+NonceSize:], ad)
	k.release(s)
	return out, err
}
