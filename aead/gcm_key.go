package aead

import (
	"github.com/atrest-dev/atrest/internal/alias"
)

// SealGCMWithKey appends ciphertext || tag to dst: AES-GCM of plaintext
// under key (16, 24 or 32 bytes) and the 12-byte nonce, authenticating ad.
//
// It is GCM for a key that seals one value, such as a key derived per write
// (KMS v2's HKDF_SHA256_XNONCE_AES_GCM_SEED): the key is expanded on the
// stack for the one path the dispatch takes for this length, used and wiped,
// so on atrest's own paths (assembly and generic) nothing is allocated
// beyond dst's growth; the standard library's path allocates its key
// schedule. A key that seals many values belongs in a GCM, which expands it
// once. The nonce must never repeat under one key. plaintext must not
// overlap dst's spare capacity unless it starts exactly there; it panics
// otherwise, and for a nonce that is not 12 bytes.
func SealGCMWithKey(dst, key, nonce, plaintext, ad []byte) ([]byte, error) {
	if len(nonce) != GCMNonceSize {
		panic("aead: incorrect nonce length given to GCM")
	}
	if err := checkKey(key); err != nil {
		return dst, err
	}
	ret, out := alias.SliceForAppend(dst, len(plaintext)+GCMTagSize)
	if alias.AnyOverlap(out, plaintext) && &out[0] != &plaintext[0] {
		panic("aead: invalid buffer overlap")
	}
	var g GCM
	if err := g.initPath(gcmSealPlan.Pick(len(plaintext)), key); err != nil {
		return dst, err
	}
	g.seal(out[:0], nonce, plaintext, ad)
	g = GCM{}
	return ret, nil
}

// OpenGCMWithKey authenticates ciphertext || tag and ad under key and the
// 12-byte nonce and appends the plaintext to dst: the open side of
// SealGCMWithKey. It returns ErrTooShort for a ciphertext shorter than the
// tag and ErrAuth when it does not authenticate; on error dst is returned
// unchanged and its spare capacity holds no plaintext. dst's spare capacity
// must not overlap ciphertext unless it starts exactly there.
func OpenGCMWithKey(dst, key, nonce, ciphertext, ad []byte) ([]byte, error) {
	if len(nonce) != GCMNonceSize {
		panic("aead: incorrect nonce length given to GCM")
	}
	if err := checkKey(key); err != nil {
		return dst, err
	}
	if len(ciphertext) < GCMTagSize {
		return dst, ErrTooShort
	}
	ret, out := alias.SliceForAppend(dst, len(ciphertext)-GCMTagSize)
	if alias.AnyOverlap(out, ciphertext) && &out[0] != &ciphertext[0] {
		panic("aead: invalid buffer overlap")
	}
	var g GCM
	if err := g.initPath(gcmOpenPlan.Pick(len(ciphertext)-GCMTagSize), key); err != nil {
		return dst, err
	}
	_, err := g.open(out[:0], nonce, ciphertext, ad)
	g = GCM{}
	if err != nil {
		clear(out)
		return dst, ErrAuth
	}
	return ret, nil
}

func checkKey(key []byte) error {
	switch len(key) {
	case 16, 24, 32:
		return nil
	}
	return ErrKeySize
}
