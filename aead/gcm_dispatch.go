package aead

import (
	"github.com/atrest-dev/atrest/internal/cpu"
	"github.com/atrest-dev/atrest/internal/impl"
)

// useStdlib selects crypto/cipher's GCM, which is fast and constant-time only
// where it runs on AES-NI and PCLMULQDQ.
var useStdlib = cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ

// vaesMinLen is the plaintext length from which the VAES path replaces
// crypto/cipher when both are enabled: below it the standard library's
// shorter setup wins or ties (BenchmarkGCM, impl=auto against stdlib). A
// forced VAES-512 (stdlib off) runs at every length.
const vaesMinLen = 256

func init() {
	// Registration order is preference order (impl.Active).
	impl.Register("gcm", "VAES-512", &useVAES512)
	impl.Register("gcm", "stdlib", &useStdlib)
}

// seal and open are the dispatch points between the hardware paths and the
// portable one. They have crypto/cipher.AEAD's contract with a 12-byte nonce
// and a 16-byte tag; out does not overlap the inputs.
func (g *GCM) seal(out, nonce, plaintext, ad []byte) []byte {
	if useVAES512 && g.hw != nil && (len(plaintext) >= vaesMinLen || !useStdlib) {
		return g.hw.seal(out, nonce, plaintext, ad)
	}
	if useStdlib {
		return g.std.Seal(out, nonce, plaintext, ad)
	}
	return g.ref.seal(out, nonce, plaintext, ad)
}

func (g *GCM) open(out, nonce, ciphertext, ad []byte) ([]byte, error) {
	if useVAES512 && g.hw != nil && (len(ciphertext)-GCMTagSize >= vaesMinLen || !useStdlib) {
		return g.hw.open(out, nonce, ciphertext, ad)
	}
	if useStdlib {
		return g.std.Open(out, nonce, ciphertext, ad)
	}
	return g.ref.open(out, nonce, ciphertext, ad)
}
