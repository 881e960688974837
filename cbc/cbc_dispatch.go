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

// Implementations of package "cbc" in priority order: the assembly paths
// (VAES-512, VAES-256, AES-NI on amd64 without the purego tag), then
// "stdlib", then impl.Portable.
func init() {
	registerHW()
	impl.Register("cbc", "stdlib", &useStdlib)
}

func newStdlib(key []byte) (cipher.Block, error) { return aes.NewCipher(key) }

// hwKeys is the key schedule of the assembly paths, expanded in New by
// AESKEYGENASSIST when the CPU has AES-NI: nr+1 round keys for encryption
// and the equivalent inverse cipher's nr+1 for decryption.
type hwKeys struct {
	enc, dec [15 * BlockSize]byte
	rounds   int // 10, 12 or 14
}

// encrypt and decrypt are the dispatch points between the hardware paths and
// the portable one. buf, dst and src are whole blocks; dst and src do not overlap.
func (c *Cipher) encrypt(iv, buf []byte) {
	if c.encryptHW(iv, buf) {
		return
	}
	if useStdlib {
		encryptBlocks(c.std, iv, buf)
		return
	}
	encryptBlocks(c.ref, iv, buf)
}

func (c *Cipher) decrypt(iv, dst, src []byte) {
	if c.decryptHW(iv, dst, src) {
		return
	}
	if useStdlib {
		decryptBlocks(c.std, iv, dst, src)
		return
	}
	decryptBlocks(c.ref, iv, dst, src)
}
