package aead_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/internal/cryptotest"
)

// TestGCMWithKeyAgrees checks SealGCMWithKey and OpenGCMWithKey against
// crypto/cipher on every implementation (the generic one included) for
// every key size, lengths 0..1100 and a few large ones, and that a flipped
// bit, a wrong key or wrong additional data is refused without plaintext.
func TestGCMWithKeyAgrees(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{9}))
	lengths := []int{}
	for n := 0; n <= 1100; n += 1 + n/64 {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 4096, 65536+3, 1<<20)
	cryptotest.Each(t, "gcm", func(t *testing.T, name string) {
		for i, n := range lengths {
			key := make([]byte, []int{16, 24, 32}[i%3])
			nonce := make([]byte, aead.GCMNonceSize)
			pt := make([]byte, n)
			ad := make([]byte, rng.IntN(64))
			for _, b := range [][]byte{key, nonce, pt, ad} {
				for j := range b {
					b[j] = byte(rng.Uint32())
				}
			}
			b, _ := aes.NewCipher(key)
			std, _ := cipher.NewGCM(b)
			want := std.Seal(nil, nonce, pt, ad)

			got, err := aead.SealGCMWithKey([]byte("pre"), key, nonce, pt, ad)
			if err != nil || string(got[:3]) != "pre" || !bytes.Equal(got[3:], want) {
				t.Fatalf("%s: len %d key %d: Seal differs from crypto/cipher (err %v)", name, n, len(key), err)
			}
			back, err := aead.OpenGCMWithKey([]byte("dst"), key, nonce, want, ad)
			if err != nil || string(back[:3]) != "dst" || !bytes.Equal(back[3:], pt) {
				t.Fatalf("%s: len %d: Open: %v", name, n, err)
			}
			// Tampering, a wrong key and wrong AD: refused, dst untouched.
			bad := bytes.Clone(want)
			bad[rng.IntN(len(bad))] ^= 1 << rng.IntN(8)
			wrongKey := bytes.Clone(key)
			wrongKey[0] ^= 1
			for _, c := range []struct{ key, ct, ad []byte }{{key, bad, ad}, {wrongKey, want, ad}, {key, want, append(ad, 0)}} {
				dst := make([]byte, 3, 3+len(pt))
				copy(dst, "dst")
				out, err := aead.OpenGCMWithKey(dst, c.key, nonce, c.ct, c.ad)
				if !errors.Is(err, aead.ErrAuth) || string(out) != "dst" {
					t.Fatalf("%s: len %d: forged input: %q, %v", name, n, out, err)
				}
				if spare := dst[3:cap(dst)]; bytes.Count(spare, []byte{0}) != len(spare) {
					t.Fatalf("%s: len %d: plaintext left in dst after a failed open", name, n)
				}
			}
		}
	})
}

func TestGCMWithKeyErrors(t *testing.T) {
	nonce := make([]byte, 12)
	if _, err := aead.SealGCMWithKey(nil, make([]byte, 31), nonce, nil, nil); !errors.Is(err, aead.ErrKeySize) {
		t.Errorf("Seal with a 31-byte key: %v", err)
	}
	if _, err := aead.OpenGCMWithKey(nil, make([]byte, 8), nonce, make([]byte, 16), nil); !errors.Is(err, aead.ErrKeySize) {
		t.Errorf("Open with an 8-byte key: %v", err)
	}
	if _, err := aead.OpenGCMWithKey(nil, make([]byte, 32), nonce, make([]byte, 15), nil); !errors.Is(err, aead.ErrTooShort) {
		t.Errorf("Open of 15 bytes: %v", err)
	}
}

// TestGCMWithKeyAllocs: with room in dst, nothing is allocated on the
// VAES-512 and generic paths (the crypto/cipher path allocates its key
// schedule, which is why the others exist).
func TestGCMWithKeyAllocs(t *testing.T) {
	key, nonce, ad := make([]byte, 32), make([]byte, 12), []byte("/registry/secrets/a/b")
	pt := make([]byte, 4096)
	ct, _ := aead.SealGCMWithKey(nil, key, nonce, pt, ad)
	dst := make([]byte, 0, len(ct))
	cryptotest.Each(t, "gcm", func(t *testing.T, name string) {
		if name == "stdlib" {
			t.Skip("crypto/aes and crypto/cipher allocate the key schedule")
		}
		if n := testing.AllocsPerRun(50, func() { aead.SealGCMWithKey(dst, key, nonce, pt, ad) }); n != 0 {
			t.Errorf("Seal: %v allocs", n)
		}
		if n := testing.AllocsPerRun(50, func() { aead.OpenGCMWithKey(dst, key, nonce, ct, ad) }); n != 0 {
			t.Errorf("Open: %v allocs", n)
		}
	})
}
