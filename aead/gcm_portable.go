package aead

import (
	"crypto/aes"
	"crypto/cipher"
)

// gcmRef is the portable GCM, the one that runs where no hardware path can
// (and under the purego tag).
type gcmRef struct{ a cipher.AEAD }

func newGCMRef(key []byte) (*gcmRef, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &gcmRef{a}, nil
}

func (r *gcmRef) seal(out, nonce, plaintext, ad []byte) []byte {
	return r.a.Seal(out, nonce, plaintext, ad)
}

func (r *gcmRef) open(out, nonce, ciphertext, ad []byte) ([]byte, error) {
	return r.a.Open(out, nonce, ciphertext, ad)
}
