package aead

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"

	"github.com/atrest-dev/atrest/aead/internal/ctghash"
	"github.com/atrest-dev/atrest/internal/alias"
	"github.com/atrest-dev/atrest/internal/ctaes"
)

// gcmGeneric is the generic GCM, the one that runs where no hardware path can
// (and always under the purego tag): counter mode over the bitsliced ctaes, four
// blocks per pass, and the constant-time ctghash. Neither indexes memory by
// nor branches on key or data; the time taken depends only on the lengths.
// The only data-dependent branch is on the result of the tag comparison,
// which Open reveals anyway.
type gcmGeneric struct {
	b ctaes.Cipher
	h ctghash.GHASH // keyed with H = AES_K(0¹²⁸), accumulator clear
}

var errGCMOpen = errors.New("aead: message authentication failed")

// gcmMaxBlocks is the number of keystream blocks one 12-byte nonce allows.
const gcmMaxBlocks = 1<<32 - 2

// init expands key (16, 24 or 32 bytes) into r, without allocating.
func (r *gcmGeneric) init(key []byte) error {
	if err := r.b.Init(key); err != nil {
		return ErrKeySize
	}
	var h [16]byte
	r.b.Encrypt(h[:], h[:])
	r.h.Init(h[:])
	clear(h[:])
	return nil
}

// ctr XORs src with the keystream for nonce (counters 2, 3, ...) into dst
// (len(dst) ≥ len(src); dst may be src). With withMask it also returns
// AES_K(J0), the block that masks the tag: J0 = nonce || 1 then rides in the
// first pass with counters 2..4.
func (r *gcmGeneric) ctr(dst, src, nonce []byte, withMask bool) (mask [16]byte) {
	var cb, ks [64]byte
	for i := 0; i < 64; i += 16 {
		copy(cb[i:i+12], nonce)
	}
	ctr := uint32(2)
	next := func() {
		for i := 0; i < 64; i += 16 {
			binary.BigEndian.PutUint32(cb[i+12:], ctr)
			ctr++
		}
		r.b.EncryptBlocks4(ks[:], cb[:])
	}
	var k []byte
	if withMask {
		ctr = 1
		next()
		copy(mask[:], ks[:16])
		k = ks[16:]
	}
	for len(src) > 0 {
		if len(k) == 0 {
			next()
			k = ks[:]
		}
		n := subtle.XORBytes(dst, src, k)
		dst, src, k = dst[n:], src[n:], k[n:]
	}
	clear(ks[:])
	return mask
}

// tag computes the GCM tag of ad and ciphertext into out.
func (r *gcmGeneric) tag(out *[16]byte, mask *[16]byte, ciphertext, ad []byte) {
	h := r.h // a copy: r stays clean for concurrent callers
	h.Update(ad)
	h.Update(ciphertext)
	h.UpdateLengths(uint64(len(ad)), uint64(len(ciphertext)))
	h.Sum(out[:0])
	subtle.XORBytes(out[:], out[:], mask[:])
}

// seal has crypto/cipher.AEAD's Seal contract for a 12-byte nonce and a
// 16-byte tag: it appends ciphertext || tag to out; plaintext may be exactly
// out's spare capacity but must not overlap it otherwise.
func (r *gcmGeneric) seal(out, nonce, plaintext, ad []byte) []byte {
	if len(nonce) != GCMNonceSize {
		panic("aead: incorrect nonce length given to GCM")
	}
	if uint64(len(plaintext)) > gcmMaxBlocks*16 {
		panic("aead: message too large for GCM")
	}
	ret, o := alias.SliceForAppend(out, len(plaintext)+GCMTagSize)
	if alias.AnyOverlap(o, plaintext) && &o[0] != &plaintext[0] {
		panic("aead: invalid buffer overlap")
	}
	ct := o[:len(plaintext)]
	mask := r.ctr(ct, plaintext, nonce, true)
	var t [16]byte
	r.tag(&t, &mask, ct, ad)
	copy(o[len(plaintext):], t[:])
	return ret
}

// open has crypto/cipher.AEAD's Open contract: it authenticates ciphertext ||
// tag and ad and appends the plaintext to out. The tag is checked, with
// crypto/subtle, before anything is decrypted, so on failure out's spare
// capacity is not written at all.
func (r *gcmGeneric) open(out, nonce, ciphertext, ad []byte) ([]byte, error) {
	if len(nonce) != GCMNonceSize {
		panic("aead: incorrect nonce length given to GCM")
	}
	if len(ciphertext) < GCMTagSize || uint64(len(ciphertext)) > gcmMaxBlocks*16+GCMTagSize {
		return nil, errGCMOpen
	}
	ct, given := ciphertext[:len(ciphertext)-GCMTagSize], ciphertext[len(ciphertext)-GCMTagSize:]

	// J0's block is computed alone here so no keystream exists before the
	// tag is known good.
	var j0, mask, t [16]byte
	copy(j0[:], nonce)
	j0[15] = 1
	r.b.Encrypt(mask[:], j0[:])
	r.tag(&t, &mask, ct, ad)
	if subtle.ConstantTimeCompare(t[:], given) != 1 {
		return nil, errGCMOpen
	}
	ret, o := alias.SliceForAppend(out, len(ct))
	if alias.AnyOverlap(o, ciphertext) && &o[0] != &ciphertext[0] {
		panic("aead: invalid buffer overlap")
	}
	r.ctr(o, ct, nonce, false)
	return ret, nil
}
