package aead

import (
	"github.com/atrest-dev/atrest/internal/cpu"
	"github.com/atrest-dev/atrest/internal/impl"
)

// useStdlib selects crypto/cipher's GCM, which is fast and constant-time only
// where it runs on AES-NI and PCLMULQDQ.
var useStdlib = cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ

func init() { impl.Register("gcm", "stdlib", &useStdlib) }

// seal and open are the dispatch points between the hardware paths and the
// portable one. They have crypto/cipher.AEAD's contract with a 12-byte nonce
// and a 16-byte tag; out does not overlap the inputs.
func (g *GCM) seal(out, nonce, plaintext, ad []byte) []byte {
	if useStdlib {
		return g.std.Seal(out, nonce, plaintext, ad)
	}
	return g.ref.seal(out, nonce, plaintext, ad)
}

func (g *GCM) open(out, nonce, ciphertext, ad []byte) ([]byte, error) {
	if useStdlib {
		return g.std.Open(out, nonce, ciphertext, ad)
	}
	return g.ref.open(out, nonce, ciphertext, ad)
}
