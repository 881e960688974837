package cbc

import (
	"crypto/cipher"
	"crypto/subtle"
)

// newPortable returns the block cipher of the portable path, the one that
// runs where no hardware path can (and under the purego tag).
func newPortable(key []byte) (cipher.Block, error) { return newStdlib(key) }

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

// decryptBlocks CBC-decrypts src into dst, which do not overlap.
func decryptBlocks(b cipher.Block, iv, dst, src []byte) {
	prev := iv
	for i := 0; i < len(src); i += BlockSize {
		b.Decrypt(dst[i:i+BlockSize], src[i:i+BlockSize])
		subtle.XORBytes(dst[i:i+BlockSize], dst[i:i+BlockSize], prev)
		prev = src[i : i+BlockSize]
	}
}
