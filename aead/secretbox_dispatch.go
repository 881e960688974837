package aead

import "golang.org/x/crypto/nacl/secretbox"

// sealBox and openBox are the dispatch points between the hardware paths and
// the portable one (x/crypto). They have x/crypto/nacl/secretbox's contract:
// sealBox appends tag || ciphertext to out.
func (s *Secretbox) sealBox(out, plaintext []byte, nonce *[24]byte) []byte {
	return secretbox.Seal(out, plaintext, nonce, &s.key)
}

func (s *Secretbox) openBox(out, box []byte, nonce *[24]byte) ([]byte, bool) {
	return secretbox.Open(out, box, nonce, &s.key)
}
