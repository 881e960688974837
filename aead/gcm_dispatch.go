package aead

import (
	"github.com/atrest-dev/atrest/internal/cpu"
	"github.com/atrest-dev/atrest/internal/impl"
)

// useStdlib selects crypto/cipher's GCM, which is fast and constant-time only
// where it runs on AES-NI and PCLMULQDQ.
var useStdlib = cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ

// There is no size threshold between VAES-512 and crypto/cipher: the VAES
// path does the whole AEAD (AD, tail blocks, tag) in one assembly call and
// BenchmarkGCMSmall measures it ahead of crypto/cipher from 0 bytes up (0,
// 16, 64, 128, 192 and 256 bytes), so it takes every length when enabled.

func init() {
	// Registration order is preference order (impl.Active).
	impl.Register("gcm", "VAES-512", &useVAES512)
	impl.Register("gcm", "VAES-256", &useVAES256)
	impl.Register("gcm", "stdlib", &useStdlib)
}

// seal and open are the dispatch points between the hardware paths and the
// portable one. They have crypto/cipher.AEAD's contract with a 12-byte nonce
// and a 16-byte tag; out does not overlap the inputs.
func (g *GCM) seal(out, nonce, plaintext, ad []byte) []byte {
	if (useVAES512 || useVAES256) && g.hw != nil {
		return g.hw.seal(out, nonce, plaintext, ad)
	}
	if useStdlib {
		return g.std.Seal(out, nonce, plaintext, ad)
	}
	return g.ref.seal(out, nonce, plaintext, ad)
}

func (g *GCM) open(out, nonce, ciphertext, ad []byte) ([]byte, error) {
	if (useVAES512 || useVAES256) && g.hw != nil {
		return g.hw.open(out, nonce, ciphertext, ad)
	}
	if useStdlib {
		return g.std.Open(out, nonce, ciphertext, ad)
	}
	return g.ref.open(out, nonce, ciphertext, ad)
}
