package cbc

import "crypto/subtle"

// encryptGeneric CBC-encrypts buf in place, a whole number of blocks, with
// one block-cipher call per block.
func (c *Cipher) encryptGeneric(iv, buf []byte) {
	prev := iv
	for i := 0; i < len(buf); i += BlockSize {
		blk := buf[i : i+BlockSize]
		subtle.XORBytes(blk, blk, prev)
		c.block.Encrypt(blk, blk)
		prev = blk
	}
}

// decryptGeneric CBC-decrypts src into dst, which do not overlap.
func (c *Cipher) decryptGeneric(iv, dst, src []byte) {
	prev := iv
	for i := 0; i < len(src); i += BlockSize {
		c.block.Decrypt(dst[i:i+BlockSize], src[i:i+BlockSize])
		subtle.XORBytes(dst[i:i+BlockSize], dst[i:i+BlockSize], prev)
		prev = src[i : i+BlockSize]
	}
}

// encrypt and decrypt are the dispatch points for hardware paths.
func (c *Cipher) encrypt(iv, buf []byte)       { c.encryptGeneric(iv, buf) }
func (c *Cipher) decrypt(iv, dst, src []byte) { c.decryptGeneric(iv, dst, src) }
