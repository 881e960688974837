//go:build !amd64 || purego

package aead

import "golang.org/x/crypto/nacl/secretbox"

// Without assembly every message takes the portable path.
func secretboxFast(int) bool { return false }

func (s *Secretbox) sealBoxAVX512(out, plaintext []byte, nonce *[24]byte) []byte {
	return secretbox.Seal(out, plaintext, nonce, &s.key)
}

func (s *Secretbox) openBoxAVX512(out, box []byte, nonce *[24]byte) ([]byte, bool) {
	return secretbox.Open(out, box, nonce, &s.key)
}
