package aead

import "golang.org/x/crypto/nacl/secretbox"

// The generic path of secretbox is golang.org/x/crypto/nacl/secretbox
// itself (with x/crypto's own Salsa20 and Poly1305 code for this GOARCH):
// the path kube-apiserver takes, and atrest's everywhere its AVX-512 kernels
// do not run.

func (s *Secretbox) sealBoxGeneric(out, plaintext []byte, nonce *[24]byte) []byte {
	return secretbox.Seal(out, plaintext, nonce, &s.key)
}

func (s *Secretbox) openBoxGeneric(out, box []byte, nonce *[24]byte) ([]byte, bool) {
	return secretbox.Open(out, box, nonce, &s.key)
}
