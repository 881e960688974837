//go:build !amd64 || purego

package aead

// Without atrest's assembly (other GOARCHes, or the purego tag) the dispatch
// is between the standard library's path, where crypto/cipher's GCM runs on
// AES and carry-less multiply instructions, and the generic one; no CPU has
// table rows here, so the plans take the standard library's path at every
// length where it is available.

// gcmAsm is empty: there is no assembly key state to set.
type gcmAsm struct{}

func (*gcmAsm) init([]byte) {}

// seal and open are the dispatch. They have crypto/cipher.AEAD's contract
// with a 12-byte nonce and a 16-byte tag; out does not overlap the inputs.
func (g *GCM) seal(out, nonce, plaintext, ad []byte) []byte {
	if gcmSealPlan.Pick(len(plaintext)) == gcmPathStdlib {
		return g.std.Seal(out, nonce, plaintext, ad)
	}
	return g.gen.seal(out, nonce, plaintext, ad)
}

func (g *GCM) open(out, nonce, ciphertext, ad []byte) ([]byte, error) {
	if gcmOpenPlan.Pick(len(ciphertext)-GCMTagSize) == gcmPathStdlib {
		return g.std.Open(out, nonce, ciphertext, ad)
	}
	return g.gen.open(out, nonce, ciphertext, ad)
}
