package aead

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"

	"github.com/atrest-dev/atrest/internal/alias"
	"github.com/atrest-dev/atrest/internal/cpu"
)

// GCM sizes.
const (
	GCMNonceSize = 12
	GCMTagSize   = 16
	GCMOverhead  = GCMNonceSize + GCMTagSize
)

// GCM seals and opens aesgcm payloads under one key. It is safe for
// concurrent use.
type GCM struct {
	std    cipher.AEAD // crypto/cipher, for the stdlib path
	ref    *gcmRef     // the portable path
	hw     *gcmAsm     // the VAES path, nil where the CPU has none
	nonces NonceSource
}

// NewGCM returns a GCM for a 16, 24 or 32 byte AES key, with random nonces.
// The key is not retained; only its expanded schedule is.
func NewGCM(key []byte) (*GCM, error) { return NewGCMWithNonces(key, RandomNonces) }

// NewGCMWithNonces is NewGCM with another nonce strategy. The payload format
// does not change, so any kube-apiserver still reads what it writes.
func NewGCMWithNonces(key []byte, nonces NonceSource) (*GCM, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, ErrKeySize
	}
	// Without AES-NI and PCLMULQDQ crypto/aes and crypto/cipher's GCM run on
	// tables (ctcheck measures the leak in the key schedule), and the stdlib
	// path cannot be selected: never build it.
	var std cipher.AEAD
	if cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, ErrKeySize
		}
		if std, err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
	}
	ref, err := newGCMRef(key)
	if err != nil {
		return nil, err
	}
	return &GCM{std: std, ref: ref, hw: newGCMAsm(key), nonces: nonces}, nil
}

// SealedLen returns the payload length Seal produces for n plaintext bytes.
func (g *GCM) SealedLen(n int) int { return n + GCMOverhead }

// Seal appends nonce || ciphertext || tag to dst, authenticating ad (the etcd
// key). plaintext must not overlap dst's spare capacity; Seal panics if it
// does. The only error is a failure of the nonce source, wrapped in ErrNonce.
func (g *GCM) Seal(dst, plaintext, ad []byte) ([]byte, error) {
	ret, out := alias.SliceForAppend(dst, len(plaintext)+GCMOverhead)
	if alias.AnyOverlap(out, plaintext) {
		panic("aead: invalid buffer overlap")
	}
	nonce := out[:GCMNonceSize]
	if err := g.nonces.FillNonce(nonce); err != nil {
		return dst, fmt.Errorf("%w: %w", ErrNonce, err)
	}
	g.seal(out[GCMNonceSize:GCMNonceSize], nonce, plaintext, ad)
	return ret, nil
}

// Open authenticates and decrypts payload (nonce || ciphertext || tag) with ad
// (the etcd key) and appends the plaintext to dst. It allocates at most
// len(payload)-28 bytes, and none when dst has room. On error dst is returned
// unchanged and its spare capacity holds no plaintext. dst's spare capacity
// must not overlap payload; Open panics if it does.
func (g *GCM) Open(dst, payload, ad []byte) ([]byte, error) {
	if len(payload) < GCMOverhead {
		return dst, ErrTooShort
	}
	ret, out := alias.SliceForAppend(dst, len(payload)-GCMOverhead)
	if alias.AnyOverlap(out, payload) {
		panic("aead: invalid buffer overlap")
	}
	if _, err := g.open(out[:0], payload[:GCMNonceSize], payload[GCMNonceSize:], ad); err != nil {
		clear(out) // crypto/cipher already does; keep the contract local
		return dst, ErrAuth
	}
	return ret, nil
}
