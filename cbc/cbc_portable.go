package cbc

import (
	"crypto/cipher"
	"crypto/subtle"

	"github.com/atrest-dev/atrest/internal/ctaes"
)

// newPortable returns the block cipher of the portable path, the one that
// runs where no hardware path can (and under the purego tag): the bitsliced,
// constant-time ctaes. With unpad's constant-time check this makes the whole
// portable Open free of secret-dependent branches and memory indexes.
func newPortable(key []byte) (cipher.Block, error) { return ctaes.New(key) }

// encryptBlocks CBC-encrypts buf in place, a whole number of blocks, with
// one block-cipher call per block.
func encryptBlocks(b cipher.Block, iv, buf []byte) {
	prev := iv
	for i := 0; i < len(buf); i += BlockSize {
		blk := buf[i : i+BlockSize]
		subtle.XORBytes(blk, blk, prev)
		b.Encrypt(blk, blk)
		prev = blk
	}
}

// decryptBlocks CBC-decrypts src into dst, which do not overlap. CBC
// decryption is parallel, so the bitsliced cipher gets four blocks a pass.
func decryptBlocks(b cipher.Block, iv, dst, src []byte) {
	if c, ok := b.(*ctaes.Cipher); ok {
		decryptBlocksCT(c, iv, dst, src)
		return
	}
	prev := iv
	for i := 0; i < len(src); i += BlockSize {
		b.Decrypt(dst[i:i+BlockSize], src[i:i+BlockSize])
		subtle.XORBytes(dst[i:i+BlockSize], dst[i:i+BlockSize], prev)
		prev = src[i : i+BlockSize]
	}
}

func decryptBlocksCT(c *ctaes.Cipher, iv, dst, src []byte) {
	const batch = 4 * BlockSize
	i := 0
	for ; i+batch <= len(src); i += batch {
		c.DecryptBlocks4(dst[i:i+batch], src[i:i+batch])
	}
	if i < len(src) {
		c.DecryptBlocks(dst[i:len(src)], src[i:])
	}
	// Chain: every block but the first takes the previous ciphertext block,
	// which src still holds since dst does not overlap it.
	subtle.XORBytes(dst[:BlockSize], dst[:BlockSize], iv)
	if len(src) > BlockSize {
		subtle.XORBytes(dst[BlockSize:len(src)], dst[BlockSize:len(src)], src[:len(src)-BlockSize])
	}
}
