package aead

import (
	"crypto/cipher"
	"fmt"

	"github.com/atrest-dev/atrest/internal/alias"
	"github.com/atrest-dev/atrest/internal/impl"
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
	gen    gcmGeneric  // the generic path (gcm_generic.go)
	std    cipher.AEAD // crypto/cipher, where it runs on AES instructions (gcm_stdlib.go); else nil
	asm    gcmAsm      // the assembly paths' key state (gcm_asm.go; empty elsewhere)
	nonces NonceSource
}

// The implementations of package "gcm" (internal/impl numbers them; the
// registry lists the available ones, fastest first, generic last):
//
//	VAES-512  amd64: VAES and VPCLMULQDQ on zmm registers, the whole AEAD in
//	          one assembly call
//	VAES-256  amd64: the same on ymm registers with AVX2 only (no AVX-512)
//	stdlib    crypto/cipher's GCM over crypto/aes, wherever those run on AES
//	          and carry-less multiply instructions (cpu.Stdlib.GCM: amd64,
//	          arm64, s390x, ppc64x)
//	generic   counter mode over the bitsliced internal/ctaes and the
//	          constant-time aead/internal/ctghash, everywhere
//
// A new path takes the next number, one impl.Register line and its rows in
// gcmTable, and one case in the dispatch.
const (
	gcmPathGeneric impl.Path = iota
	gcmPathStdlib
	gcmPathVAES512
	gcmPathVAES256
)

// The plans of the dispatch in gcm_asm.go and gcm_noasm.go, by plaintext
// length.
var gcmSealPlan, gcmOpenPlan impl.Plan

func init() {
	// CPUs without rows in the table take the standard library's path
	// (generic where it has no AES instructions).
	impl.Dispatch("gcm", gcmPathStdlib,
		impl.Op{Name: "seal", Plan: &gcmSealPlan},
		impl.Op{Name: "open", Plan: &gcmOpenPlan})
}

// NewGCM returns a GCM for a 16, 24 or 32 byte AES key, with random nonces.
// The key is not retained; only its expanded schedules are.
func NewGCM(key []byte) (*GCM, error) { return NewGCMWithNonces(key, RandomNonces) }

// NewGCMWithNonces is NewGCM with another nonce strategy. The payload format
// does not change, so any kube-apiserver still reads what it writes.
//
// The key is expanded for every path this CPU can run, whichever is
// selected now, so tests can switch paths on an existing GCM.
func NewGCMWithNonces(key []byte, nonces NonceSource) (*GCM, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	g := &GCM{nonces: nonces}
	if err := g.gen.init(key); err != nil {
		return nil, err
	}
	var err error
	if g.std, err = newGCMStdlib(key); err != nil {
		return nil, err
	}
	g.asm.init(key)
	return g, nil
}

// initPath expands key for path p alone, into a GCM that seals or opens one
// value (SealGCMWithKey): the dispatch then takes p for that value's length.
func (g *GCM) initPath(p impl.Path, key []byte) (err error) {
	switch p {
	case gcmPathGeneric:
		return g.gen.init(key)
	case gcmPathStdlib:
		g.std, err = newGCMStdlib(key)
		return err
	}
	g.asm.init(key)
	return nil
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
