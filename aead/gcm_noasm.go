//go:build !amd64 || purego

package aead

// Without assembly there is no VAES GCM: useVAES512 and useVAES256 stay
// false (impl lists them as unavailable, so Select cannot turn them on) and
// newGCMAsm returns nil, so the dispatch never reaches gcmAsm's methods.
var useVAES512, useVAES256 = false, false

type gcmAsm struct{}

func newGCMAsm([]byte) *gcmAsm { return nil }

func (*gcmAsm) init([]byte) { panic("aead: no assembly GCM in this build") }

func (*gcmAsm) seal(out, nonce, plaintext, ad []byte) []byte {
	panic("aead: no assembly GCM in this build")
}

func (*gcmAsm) open(out, nonce, ciphertext, ad []byte) ([]byte, error) {
	panic("aead: no assembly GCM in this build")
}
