package aead

import "golang.org/x/crypto/nacl/secretbox"

// sealBox and openBox are the dispatch points between the hardware paths and
// the portable one (x/crypto). They have x/crypto/nacl/secretbox's contract:
// sealBox appends tag || ciphertext to out; openBox appends the plaintext of
// box (tag || ciphertext) to out after checking the tag, and writes nothing
// when it does not match. On amd64 with AVX-512 and IFMA, impl "AVX512" of
// package "secretbox" takes messages of secretboxMinAVX512 bytes and more.
func (s *Secretbox) sealBox(out, plaintext []byte, nonce *[24]byte) []byte {
	if secretboxFast(len(plaintext)) {
		return s.sealBoxAVX512(out, plaintext, nonce)
	}
	return secretbox.Seal(out, plaintext, nonce, &s.key)
}

func (s *Secretbox) openBox(out, box []byte, nonce *[24]byte) ([]byte, bool) {
	if secretboxFast(len(box) - secretbox.Overhead) {
		return s.openBoxAVX512(out, box, nonce)
	}
	return secretbox.Open(out, box, nonce, &s.key)
}
