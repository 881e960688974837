package cbc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
)

// newPortable returns the block cipher the portable path runs on.
func newPortable(key []byte) (cipher.Block, error) { return aes.NewCipher(key) }

// encryptPortable CBC-encrypts buf in place, a whole number of blocks, with
// one block-cipher call per block.
func (c *Cipher) encryptPortable(iv, buf []byte) {
	prev := iv
	for i := 0; i < len(buf); i += BlockSize {
		blk := buf[i : i+BlockSize]
		subtle.XORBytes(blk, blk, prev)
		c.block.Encrypt(blk, blk)
		prev = blk
	}
}

// decryptPortable CBC-decrypts src into dst, which do not overlap.
func (c *Cipher) decryptPortable(iv, dst, src []byte) {
	prev := iv
	for i := 0; i < len(src); i += BlockSize {
		c.block.Decrypt(dst[i:i+BlockSize], src[i:i+BlockSize])
		subtle.XORBytes(dst[i:i+BlockSize], dst[i:i+BlockSize], prev)
		prev = src[i : i+BlockSize]
	}
}
