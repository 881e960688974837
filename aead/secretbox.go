package aead

import (
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"

	"github.com/atrest-dev/atrest/internal/alias"
	"github.com/atrest-dev/atrest/internal/impl"
)

// Secretbox sizes.
const (
	SecretboxKeySize   = 32
	SecretboxNonceSize = 24
	SecretboxTagSize   = secretbox.Overhead
	SecretboxOverhead  = SecretboxNonceSize + SecretboxTagSize
)

// Secretbox seals and opens secretbox payloads under one key. It is safe for
// concurrent use.
type Secretbox struct {
	key    [SecretboxKeySize]byte
	nonces NonceSource
}

// The implementations of package "secretbox" (internal/impl numbers them;
// the registry lists the available ones, generic last):
//
//	AVX512   amd64 with AVX-512 and IFMA: XSalsa20 sixteen blocks at a time
//	         in zmm registers, Poly1305 eight blocks at a time with IFMA
//	generic  golang.org/x/crypto/nacl/secretbox, everywhere (what
//	         kube-apiserver runs)
const (
	boxPathGeneric impl.Path = iota
	boxPathAVX512
)

// The plans of the dispatch in secretbox_asm.go, by plaintext length.
var secretboxSealPlan, secretboxOpenPlan impl.Plan

func init() {
	// CPUs without rows in the table take x/crypto's path.
	impl.Dispatch("secretbox", boxPathGeneric,
		impl.Op{Name: "seal", Plan: &secretboxSealPlan},
		impl.Op{Name: "open", Plan: &secretboxOpenPlan})
}

// NewSecretbox returns a Secretbox for a 32-byte key, with random nonces.
// The key is copied.
func NewSecretbox(key []byte) (*Secretbox, error) {
	if len(key) != SecretboxKeySize {
		return nil, ErrKeySize
	}
	s := &Secretbox{nonces: RandomNonces}
	copy(s.key[:], key)
	return s, nil
}

// SealedLen returns the payload length Seal produces for n plaintext bytes.
func (s *Secretbox) SealedLen(n int) int { return n + SecretboxOverhead }

// Seal appends nonce || tag || ciphertext to dst. ad is ignored, as
// kube-apiserver gives secretbox none. plaintext must not overlap dst's spare
// capacity; Seal panics if it does.
func (s *Secretbox) Seal(dst, plaintext, ad []byte) ([]byte, error) {
	ret, out := alias.SliceForAppend(dst, len(plaintext)+SecretboxOverhead)
	if alias.AnyOverlap(out, plaintext) {
		panic("aead: invalid buffer overlap")
	}
	if err := s.nonces.FillNonce(out[:SecretboxNonceSize]); err != nil {
		return dst, fmt.Errorf("%w: %w", ErrNonce, err)
	}
	// sealBox writes only out[SecretboxNonceSize:], which has room, so the
	// nonce stays where it is and needs no copy.
	s.sealBox(out[SecretboxNonceSize:SecretboxNonceSize], plaintext, (*[SecretboxNonceSize]byte)(out))
	return ret, nil
}

// Open authenticates and decrypts payload (nonce || tag || ciphertext) and
// appends the plaintext to dst. ad is ignored. It allocates at most
// len(payload)-40 bytes, and none when dst has room; on error dst is returned
// unchanged. dst's spare capacity must not overlap payload; Open panics if it
// does.
func (s *Secretbox) Open(dst, payload, ad []byte) ([]byte, error) {
	if len(payload) < SecretboxOverhead {
		return dst, ErrTooShort
	}
	ret, out := alias.SliceForAppend(dst, len(payload)-SecretboxOverhead)
	if alias.AnyOverlap(out, payload) {
		panic("aead: invalid buffer overlap")
	}
	// out does not overlap payload, so the nonce in it is read in place.
	if _, ok := s.openBox(out[:0], payload[SecretboxNonceSize:], (*[SecretboxNonceSize]byte)(payload)); !ok {
		clear(out)
		return dst, ErrAuth
	}
	return ret, nil
}
