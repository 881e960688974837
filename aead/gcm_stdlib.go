package aead

import (
	"crypto/aes"
	"crypto/cipher"

	"github.com/atrest-dev/atrest/internal/cpu"
	"github.com/atrest-dev/atrest/internal/impl"
)

// The standard library's path is registered on every GOARCH, available
// where crypto/cipher's GCM runs on the CPU's AES and carry-less multiply
// instructions (cpu.Stdlib.GCM: amd64 with AES-NI and PCLMULQDQ, arm64 with
// AES and PMULL, s390x with CPACF, ppc64x). There it is constant-time and it
// is what users compare with, so every CPU the dispatch table has no measured
// rows for takes it. Elsewhere crypto/aes and its GCM use lookup tables
// (variable time: ctcheck measures the leak in the key schedule), so atrest
// never builds them there and the generic path runs.
func init() { impl.Register("gcm", "stdlib", gcmPathStdlib, cpu.Stdlib.GCM) }

// newGCMStdlib returns crypto/cipher's GCM for key where the standard
// library's path is available, and nil elsewhere.
func newGCMStdlib(key []byte) (cipher.AEAD, error) {
	if !cpu.Stdlib.GCM {
		return nil, nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, ErrKeySize
	}
	return cipher.NewGCM(block)
}
