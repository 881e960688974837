package cbc

import (
	"crypto/subtle"

	"github.com/atrest-dev/atrest/internal/ctaes"
)

// genericCBC is the generic path, the one that runs where no hardware path
// can (and always under the purego tag): CBC over the bitsliced,
// constant-time ctaes. With unpad's constant-time check this makes the whole
// generic Open free of secret-dependent branches and memory indexes.
type genericCBC struct {
	b ctaes.Cipher
}

func (g *genericCBC) init(key []byte) error { return g.b.Init(key) }

// encrypt CBC-encrypts buf in place, a whole number of blocks, one block at
// a time (the chain is serial).
func (g *genericCBC) encrypt(iv, buf []byte) {
	prev := iv
	for i := 0; i < len(buf); i += BlockSize {
		blk := buf[i : i+BlockSize]
		subtle.XORBytes(blk, blk, prev)
		g.b.Encrypt(blk, blk)
		prev = blk
	}
}

// decrypt CBC-decrypts src into dst, which do not overlap. CBC decryption is
// parallel, so the bitsliced cipher gets four blocks a pass.
func (g *genericCBC) decrypt(iv, dst, src []byte) {
	const batch = 4 * BlockSize
	i := 0
	for ; i+batch <= len(src); i += batch {
		g.b.DecryptBlocks4(dst[i:i+batch], src[i:i+batch])
	}
	if i < len(src) {
		g.b.DecryptBlocks(dst[i:len(src)], src[i:])
	}
	if len(src) == 0 {
		return
	}
	// Chain: every block but the first takes the previous ciphertext block,
	// which src still holds since dst does not overlap it.
	subtle.XORBytes(dst[:BlockSize], dst[:BlockSize], iv)
	if len(src) > BlockSize {
		subtle.XORBytes(dst[BlockSize:len(src)], dst[BlockSize:len(src)], src[:len(src)-BlockSize])
	}
}
