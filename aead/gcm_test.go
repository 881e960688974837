package aead_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/internal/cryptotest"
	"github.com/atrest-dev/atrest/internal/impl"
)

// TestGCMImplsAgree compares every implementation with crypto/cipher at
// every plaintext length 0..4096, with random key sizes, keys, nonces and
// additional data of 0..100 bytes (some up to 1200, for the kernels'
// 256-byte AD loop); the contract suite checks Open and tampering.
func TestGCMImplsAgree(t *testing.T) {
	maxLen := 4096
	if testing.Short() {
		maxLen = 600
	}
	rng := rand.New(rand.NewChaCha8([32]byte{7}))
	type input struct{ key, nonce, pt, ad, want []byte }
	var inputs []input
	for n := 0; n <= maxLen; n++ {
		in := input{
			key:   make([]byte, []int{16, 24, 32}[rng.IntN(3)]),
			nonce: make([]byte, aead.GCMNonceSize),
			pt:    make([]byte, n+n%13)[n%13:], // misaligned now and then
			ad:    make([]byte, rng.IntN(101)),
		}
		if n%97 == 0 {
			in.ad = make([]byte, rng.IntN(1200))
		}
		for _, b := range [][]byte{in.key, in.nonce, in.pt, in.ad} {
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
		}
		b, _ := aes.NewCipher(in.key)
		a, _ := cipher.NewGCM(b)
		in.want = a.Seal(bytes.Clone(in.nonce), in.nonce, in.pt, in.ad)
		inputs = append(inputs, in)
	}
	cryptotest.Each(t, "gcm", func(t *testing.T, name string) {
		for _, in := range inputs {
			g, err := aead.NewGCMWithNonces(in.key, fixedNonces(in.nonce))
			if err != nil {
				t.Fatal(err)
			}
			got, err := g.Seal(nil, in.pt, in.ad)
			if err != nil || !bytes.Equal(got, in.want) {
				t.Fatalf("len %d, key %d, ad %d: Seal differs from crypto/cipher\n got %x\nwant %x",
					len(in.pt), len(in.key), len(in.ad), got, in.want)
			}
			if pt, err := g.Open(nil, in.want, in.ad); err != nil || !bytes.Equal(pt, in.pt) {
				t.Fatalf("len %d: Open of crypto/cipher's payload: %v", len(in.pt), err)
			}
		}
	})
}

// TestGCMGenericIsExpected fails if the generic path runs at any length
// while the CPU has AES and carry-less multiply instructions, or anything
// else runs without them (and always under the purego tag). Under
// qemu-aarch64 this is the test that shows arm64 takes the standard
// library's path.
func TestGCMGenericIsExpected(t *testing.T) {
	cryptotest.CheckGenericIsExpected(t, "gcm", cryptotest.HardwareGCM())
}

// TestSelect checks for both packages that every listed implementation can
// be forced and is then the only one in use.
func TestSelect(t *testing.T) {
	for _, pkg := range []string{"gcm", "secretbox"} {
		list := impl.List(pkg)
		if list[len(list)-1] != impl.Generic {
			t.Fatalf("%s: List = %v, want generic last", pkg, list)
		}
		cryptotest.Each(t, pkg, func(t *testing.T, name string) {
			if got := impl.Uses(pkg); !slices.Equal(got, []string{name}) {
				t.Errorf("%s: Select(%q): in use %v", pkg, name, got)
			}
		})
		t.Logf("%s: %v; auto: %s", pkg, list, impl.Describe(pkg))
	}
}
