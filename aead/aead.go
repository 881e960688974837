// Package aead implements the payloads of kube-apiserver's two authenticated
// providers:
//
//   - aesgcm: AES-GCM with a 12-byte nonce and a 16-byte tag, laid out as
//     nonce(12) || ciphertext || tag(16), the additional data being the etcd
//     key (so a value cannot be moved to another key).
//   - secretbox: NaCl secretbox (XSalsa20-Poly1305) with a 24-byte nonce,
//     laid out as nonce(24) || tag(16) || ciphertext. kube-apiserver passes no
//     additional data to it, so Seal and Open ignore ad.
//
// Both types have the same two methods as cbc.Cipher, so envelope can hold
// any of them. Open returns ErrAuth for a wrong key, a wrong etcd key (GCM)
// and any tampering, and never leaves unauthenticated plaintext in dst.
package aead

import (
	"crypto/rand"
	"errors"
)

var (
	// ErrKeySize is returned by the constructors for a key of the wrong length.
	ErrKeySize = errors.New("aead: invalid key size")
	// ErrTooShort is returned by Open for a payload shorter than nonce and tag.
	ErrTooShort = errors.New("aead: stored data is shorter than the required size")
	// ErrAuth is returned by Open when the payload does not authenticate.
	ErrAuth = errors.New("aead: message authentication failed")
	// ErrNonce wraps a failure of a NonceSource.
	ErrNonce = errors.New("aead: cannot make a nonce")
)

// NonceSource makes nonces for Seal. FillNonce fills b with a nonce that,
// with the probability the source documents, was never used before under the
// same key. It must be safe for concurrent use.
type NonceSource interface {
	FillNonce(b []byte) error
}

// RandomNonces reads nonces from crypto/rand, as kube-apiserver does. It is
// the default NonceSource.
var RandomNonces NonceSource = randomNonces{}

type randomNonces struct{}

func (randomNonces) FillNonce(b []byte) error {
	_, err := rand.Read(b) // never fails since Go 1.24
	return err
}
