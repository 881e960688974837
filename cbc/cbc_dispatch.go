package cbc

import (
	"crypto/aes"
	"crypto/cipher"

	"github.com/atrest-dev/atrest/internal/cpu"
	"github.com/atrest-dev/atrest/internal/impl"
)

// useStdlib selects the Go CBC loop over crypto/aes, which is fast and
// constant-time only where crypto/aes runs on AES-NI.
var useStdlib = cpu.X86.HasAES

func init() { impl.Register("cbc", "stdlib", &useStdlib) }

func newStdlib(key []byte) (cipher.Block, error) { return aes.NewCipher(key) }

// encrypt and decrypt are the dispatch points between the hardware paths and
// the portable one. buf, dst and src are whole blocks; dst and src do not overlap.
func (c *Cipher) encrypt(iv, buf []byte) {
	if useStdlib {
		encryptBlocks(c.std, iv, buf)
		return
	}
	encryptBlocks(c.ref, iv, buf)
}

func (c *Cipher) decrypt(iv, dst, src []byte) {
	if useStdlib {
		decryptBlocks(c.std, iv, dst, src)
		return
	}
	decryptBlocks(c.ref, iv, dst, src)
}
