package fuzz_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"testing"
	"testing/cryptotest"

	"golang.org/x/crypto/nacl/secretbox"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/cbc"
)

// opener is the Open method the three primitives share.
type opener interface {
	Open(dst, payload, ad []byte) ([]byte, error)
}

// checkOpen runs Open on payload under every variant of the primitive's
// package and checks the contract against the model's answer (want, ok):
// no panic; an error XOR a plaintext; the plaintext the model gives; the
// sentinel wantErr on failure with dst returned unchanged and nothing written
// into its spare capacity; with a nil dst a result of capacity at most
// len(payload); with room in dst no allocation; and every variant returning
// the same bytes.
func checkOpen(t *testing.T, vs []variant, c opener, payload, ad []byte, want []byte, ok bool, wantErr error) {
	t.Helper()
	for _, v := range vs {
		v.with(t, func() {
			out, err := c.Open(nil, payload, ad)
			switch {
			case err != nil && out != nil:
				t.Fatalf("%s: Open returned an error (%v) and %d bytes", v, err, len(out))
			case ok != (err == nil):
				t.Fatalf("%s: Open(%x) err = %v, the model says accept = %v", v, short(payload), err, ok)
			case err != nil && !errors.Is(err, wantErr):
				t.Fatalf("%s: Open(%x) err = %v, want %v", v, short(payload), err, wantErr)
			case ok && !bytes.Equal(out, want):
				t.Fatalf("%s: Open(%x) = %x, the model says %x", v, short(payload), short(out), short(want))
			case cap(out) > len(payload):
				t.Fatalf("%s: Open allocated %d bytes for a %d-byte payload", v, cap(out), len(payload))
			}
			d := withSpare(len(payload))
			out, err = c.Open(d, payload, ad)
			switch {
			case err != nil && (len(out) != len(dstPrefix) || !spareIsZero(out)):
				t.Fatalf("%s: failed Open changed dst or left bytes in its spare capacity", v)
			case !bytes.Equal(out[:len(dstPrefix)], dstPrefix) || &out[0] != &d[0]:
				t.Fatalf("%s: Open with room in dst did not append in place", v)
			case err == nil && !bytes.Equal(out[len(dstPrefix):], want):
				t.Fatalf("%s: Open appended %x, want %x", v, short(out[len(dstPrefix):]), short(want))
			}
		})
	}
}

// cbcKey picks one of the three AES key sizes.
func cbcKey(sel uint8) []byte {
	n := aesKeySizes[int(sel)%3]
	return detKey(fmt.Sprintf("cbc/%d", n), n)
}

// FuzzCBCOpen feeds arbitrary payloads to cbc.Open on every implementation
// and checks them against the model of kube-apiserver's read (SPEC §2):
// ErrTooShort below IV + one block, ErrBlockSize off the block grid,
// ErrPadding for every bad padding, and any padding 1 ≤ p ≤ len accepted.
// It then seals the payload as a plaintext with the same IV on every
// implementation, compares the bytes with crypto/cipher's CBC, and opens
// each result on every implementation.
func FuzzCBCOpen(f *testing.F) {
	f.Fuzz(func(t *testing.T, keySel uint8, payload []byte) {
		key := cbcKey(keySel)
		c, err := cbc.New(key)
		if err != nil {
			t.Fatal(err)
		}
		vs := variants("cbc")
		want, ok := modelOpenCBC(key, payload)
		var wantErr error
		switch {
		case len(payload) < 2*cbc.BlockSize:
			wantErr = cbc.ErrTooShort
		case len(payload)%cbc.BlockSize != 0:
			wantErr = cbc.ErrBlockSize
		default:
			wantErr = cbc.ErrPadding
		}
		checkOpen(t, vs, c, payload, []byte("/registry/secrets/ns/name"), want, ok, wantErr)

		// Round trip, byte for byte against crypto/cipher with the same IV.
		block, _ := aes.NewCipher(key)
		var first []byte
		for _, v := range vs {
			v.with(t, func() {
				cryptotest.SetGlobalRandom(t, uint64(len(payload)))
				sealed, err := c.Seal(nil, payload, nil)
				if err != nil || len(sealed) != cbc.SealedLen(len(payload)) {
					t.Fatalf("%s: Seal: %d bytes, %v", v, len(sealed), err)
				}
				p := byte(cbc.BlockSize - len(payload)%cbc.BlockSize)
				ref := append(bytes.Clone(payload), bytes.Repeat([]byte{p}, int(p))...)
				cipher.NewCBCEncrypter(block, sealed[:cbc.BlockSize]).CryptBlocks(ref, ref)
				if !bytes.Equal(sealed[cbc.BlockSize:], ref) {
					t.Fatalf("%s: Seal differs from crypto/cipher CBC", v)
				}
				if first == nil {
					first = sealed
				} else if !bytes.Equal(sealed, first) {
					t.Fatalf("%s: Seal under the same IV differs from %s", v, vs[0])
				}
			})
		}
		checkOpen(t, vs, c, first, nil, payload, true, nil)
	})
}

// fixedNonces hands out the same nonce every time, to compare Seal across
// implementations byte for byte.
type fixedNonces []byte

func (n fixedNonces) FillNonce(b []byte) error { copy(b, n); return nil }

func gcmKey(sel uint8) []byte {
	n := aesKeySizes[int(sel)%3]
	return detKey(fmt.Sprintf("gcm/%d", n), n)
}

// FuzzGCMOpen feeds arbitrary payloads and etcd keys to aead.GCM.Open on
// every implementation and checks them against crypto/cipher's GCM:
// ErrTooShort below nonce + tag, ErrAuth for everything that does not
// authenticate. It then seals the payload as a plaintext under a nonce taken
// from the input on every implementation, compares the bytes with
// crypto/cipher, and opens each result on every implementation, and with a
// different etcd key, which must fail.
func FuzzGCMOpen(f *testing.F) {
	f.Fuzz(func(t *testing.T, keySel uint8, payload, ad []byte) {
		key := gcmKey(keySel)
		nonce := make([]byte, aead.GCMNonceSize)
		copy(nonce, payload)
		g, err := aead.NewGCMWithNonces(key, fixedNonces(nonce))
		if err != nil {
			t.Fatal(err)
		}
		vs := variants("gcm")
		want, ok := modelOpenGCM(key, payload, ad)
		wantErr := aead.ErrAuth
		if len(payload) < aead.GCMOverhead {
			wantErr = aead.ErrTooShort
		}
		checkOpen(t, vs, g, payload, ad, want, ok, wantErr)

		block, _ := aes.NewCipher(key)
		std, _ := cipher.NewGCM(block)
		ref := std.Seal(bytes.Clone(nonce), nonce, payload, ad)
		for _, v := range vs {
			v.with(t, func() {
				sealed, err := g.Seal(nil, payload, ad)
				if err != nil || !bytes.Equal(sealed, ref) {
					t.Fatalf("%s: Seal = %x, %v; crypto/cipher: %x", v, short(sealed), err, short(ref))
				}
			})
		}
		checkOpen(t, vs, g, ref, ad, payload, true, nil)
		checkOpen(t, vs, g, ref, append(bytes.Clone(ad), 0), nil, false, aead.ErrAuth)
	})
}

// FuzzSecretboxOpen feeds arbitrary payloads to aead.Secretbox.Open on every
// implementation and checks them against x/crypto's secretbox: ErrTooShort
// below nonce + tag, ErrAuth otherwise, ad ignored. It then seals the payload
// as a plaintext under the same nonce on every implementation, compares the
// bytes with x/crypto, and opens each result on every implementation.
func FuzzSecretboxOpen(f *testing.F) {
	f.Fuzz(func(t *testing.T, keySel uint8, payload []byte) {
		key := detKey(fmt.Sprintf("secretbox/%d", keySel%2), 32)
		s, err := aead.NewSecretbox(key)
		if err != nil {
			t.Fatal(err)
		}
		vs := variants("secretbox")
		want, ok := modelOpenSecretbox(key, payload)
		wantErr := aead.ErrAuth
		if len(payload) < aead.SecretboxOverhead {
			wantErr = aead.ErrTooShort
		}
		checkOpen(t, vs, s, payload, []byte("ignored"), want, ok, wantErr)

		var ref []byte
		for _, v := range vs {
			v.with(t, func() {
				cryptotest.SetGlobalRandom(t, uint64(len(payload)))
				sealed, err := s.Seal(nil, payload, nil)
				if err != nil || len(sealed) != s.SealedLen(len(payload)) {
					t.Fatalf("%s: Seal: %d bytes, %v", v, len(sealed), err)
				}
				if ref == nil {
					nonce := (*[24]byte)(sealed[:24])
					ref = secretbox.Seal(bytes.Clone(sealed[:24]), payload, nonce, (*[32]byte)(key))
				}
				if !bytes.Equal(sealed, ref) {
					t.Fatalf("%s: Seal differs from x/crypto secretbox", v)
				}
			})
		}
		checkOpen(t, vs, s, ref, nil, payload, true, nil)
	})
}
