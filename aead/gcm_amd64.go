//go:build !purego

package aead

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"

	"github.com/atrest-dev/atrest/internal/alias"
	"github.com/atrest-dev/atrest/internal/cpu"
)

//go:generate sh -c "cd _asm/gcm && go run . -out ../../gcm_amd64.s -stubs ../../gcm_stubs_amd64.go -pkg aead"

// useVAES512 selects the VAES/VPCLMULQDQ AVX-512 GCM of gcm_amd64.s (BZHI
// builds its byte masks).
var useVAES512 = cpu.X86.HasVAES && cpu.X86.HasVPCLMULQDQ && cpu.X86.HasAVX512 && cpu.X86.HasBMI2

// vaes512Available is useVAES512 as detected, before any impl.Select.
var vaes512Available = useVAES512

// gcmMaxPlaintext is GCM's limit with a 96-bit nonce: 2^32-2 blocks.
const gcmMaxPlaintext = (1<<32 - 2) * 16

var errVAESOpen = errors.New("aead: message authentication failed")

// gcmAsm is the key-dependent state of the assembly GCM: the AES round keys
// and the hash key powers H^16..H^1 in the form gcm_amd64.s multiplies by,
// with 64 zero bytes after them for the masked tail.
type gcmAsm struct {
	rk   [240]byte
	nr   int
	htab [320]byte
}

// newGCMAsm expands key (16, 24 or 32 bytes) for the assembly GCM, or
// returns nil when this CPU cannot run it.
func newGCMAsm(key []byte) *gcmAsm {
	if !vaes512Available && !vaes256Available {
		return nil
	}
	h := new(gcmAsm)
	h.init(key)
	return h
}

// init expands key (16, 24 or 32 bytes) into h; the caller checked that this
// CPU runs the assembly GCM.
func (h *gcmAsm) init(key []byte) {
	nk := len(key) / 4
	h.nr = nk + 6
	var w [60]uint32
	for i := 0; i < nk; i++ {
		w[i] = binary.BigEndian.Uint32(key[4*i:])
	}
	rcon := uint32(1)
	for i := nk; i < 4*(h.nr+1); i++ {
		t := w[i-1]
		switch {
		case i%nk == 0:
			t = aesSubWord(t<<8|t>>24) ^ rcon<<24
			rcon <<= 1
			if rcon&0x100 != 0 {
				rcon ^= 0x11b
			}
		case nk > 6 && i%nk == 4:
			t = aesSubWord(t)
		}
		w[i] = w[i-nk] ^ t
	}
	for i := 0; i < 4*(h.nr+1); i++ {
		binary.BigEndian.PutUint32(h.rk[4*i:], w[i])
	}
	clear(w[:])
	gcmInitVAES(&h.rk, h.nr, &h.htab)
}

// seal and open have crypto/cipher.AEAD's contract for a 12-byte nonce and
// a 16-byte tag.
func (h *gcmAsm) seal(out, nonce, plaintext, ad []byte) []byte {
	if uint64(len(plaintext)) > gcmMaxPlaintext {
		panic("aead: message too large for GCM")
	}
	ret, o := alias.SliceForAppend(out, len(plaintext)+GCMTagSize)
	if alias.AnyOverlap(o, plaintext) && &o[0] != &plaintext[0] {
		panic("aead: invalid buffer overlap")
	}
	var j0, tag [16]byte
	copy(j0[:], nonce)
	j0[15] = 1
	h.sealVAES(&j0, o, plaintext, ad, &tag)
	copy(o[len(plaintext):], tag[:])
	return ret
}

func (h *gcmAsm) open(out, nonce, ciphertext, ad []byte) ([]byte, error) {
	if len(ciphertext) < GCMTagSize || uint64(len(ciphertext)) > gcmMaxPlaintext+GCMTagSize {
		return nil, errVAESOpen
	}
	tag := ciphertext[len(ciphertext)-GCMTagSize:]
	ciphertext = ciphertext[:len(ciphertext)-GCMTagSize]
	ret, o := alias.SliceForAppend(out, len(ciphertext))
	if alias.AnyOverlap(o, ciphertext) && &o[0] != &ciphertext[0] {
		panic("aead: invalid buffer overlap")
	}
	var j0, want [16]byte
	copy(j0[:], nonce)
	j0[15] = 1
	h.openVAES(&j0, o, ciphertext, ad, &want)
	if subtle.ConstantTimeCompare(want[:], tag) != 1 {
		clear(o)
		return nil, errVAESOpen
	}
	return ret, nil
}
