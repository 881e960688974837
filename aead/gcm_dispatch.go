package aead

// seal and open are the dispatch points between the hardware paths and the
// portable one. They have crypto/cipher.AEAD's contract with a 12-byte nonce
// and a 16-byte tag; out does not overlap the inputs.
func (g *GCM) seal(out, nonce, plaintext, ad []byte) []byte {
	return g.aead.Seal(out, nonce, plaintext, ad)
}

func (g *GCM) open(out, nonce, ciphertext, ad []byte) ([]byte, error) {
	return g.aead.Open(out, nonce, ciphertext, ad)
}
