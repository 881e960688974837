//go:build !amd64 || purego

package aead

// Without atrest's assembly (other GOARCHes, or the purego tag) every
// message takes the generic path, x/crypto's.

// sealBox and openBox are the dispatch. They have
// x/crypto/nacl/secretbox's contract: sealBox appends tag || ciphertext to
// out; openBox appends the plaintext of box (tag || ciphertext) to out after
// checking the tag, and writes nothing when it does not match.
func (s *Secretbox) sealBox(out, plaintext []byte, nonce *[24]byte) []byte {
	return s.sealBoxGeneric(out, plaintext, nonce)
}

func (s *Secretbox) openBox(out, box []byte, nonce *[24]byte) ([]byte, bool) {
	return s.openBoxGeneric(out, box, nonce)
}
