package aead_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/internal/impl"
)

// forEachGCMImpl runs f with each GCM implementation this CPU has forced on
// in turn, the portable one last.
func forEachGCMImpl(t *testing.T, f func(t *testing.T, name string)) {
	t.Helper()
	defer impl.Reset("gcm")
	for _, name := range impl.List("gcm") {
		if !impl.Select("gcm", name) {
			t.Fatalf("impl.Select(gcm, %s) failed", name)
		}
		t.Run("impl="+name, func(t *testing.T) { f(t, name) })
	}
}

// TestGCMVectorsPerImpl runs the McGrew–Viega vectors through every
// implementation, each forced on alone (so a VAES path runs at every length).
func TestGCMVectorsPerImpl(t *testing.T) {
	forEachGCMImpl(t, func(t *testing.T, _ string) { TestGCMVectors(t) })
}

// TestGCMImplsAgree compares every implementation with the portable one and
// with crypto/cipher at every plaintext length 0..4096, with random key
// sizes, keys, nonces and additional data of 0..100 bytes (some up to 1200), and checks that
// Open inverts Seal and rejects a flipped bit.
func TestGCMImplsAgree(t *testing.T) {
	maxLen := 4096
	if testing.Short() {
		maxLen = 600
	}
	rng := rand.New(rand.NewChaCha8([32]byte{7}))
	type input struct{ key, nonce, pt, ad []byte }
	var inputs []input
	for n := 0; n <= maxLen; n++ {
		in := input{
			key:   make([]byte, []int{16, 24, 32}[rng.IntN(3)]),
			nonce: make([]byte, aead.GCMNonceSize),
			pt:    make([]byte, n+n%13)[n%13:], // misaligned now and then
			ad:    make([]byte, rng.IntN(101)),
		}
		if n%97 == 0 { // now and then AD long enough for the 256-byte loop
			in.ad = make([]byte, rng.IntN(1200))
		}
		for _, b := range [][]byte{in.key, in.nonce, in.pt, in.ad} {
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
		}
		inputs = append(inputs, in)
	}
	// The reference: crypto/cipher, and the portable path.
	want := make([][]byte, len(inputs))
	for i, in := range inputs {
		b, _ := aes.NewCipher(in.key)
		a, _ := cipher.NewGCM(b)
		want[i] = a.Seal(bytes.Clone(in.nonce), in.nonce, in.pt, in.ad)
	}
	forEachGCMImpl(t, func(t *testing.T, name string) {
		for i, in := range inputs {
			g, err := aead.NewGCMWithNonces(in.key, fixedNonces(in.nonce))
			if err != nil {
				t.Fatal(err)
			}
			got, err := g.Seal([]byte("pre"), in.pt, in.ad)
			if err != nil || !bytes.Equal(got[3:], want[i]) || string(got[:3]) != "pre" {
				t.Fatalf("len %d, key %d, ad %d: Seal differs from crypto/cipher\n got %x\nwant %x",
					len(in.pt), len(in.key), len(in.ad), got[3:], want[i])
			}
			pt, err := g.Open(make([]byte, 1, 1+len(in.pt)), want[i], in.ad)
			if err != nil || !bytes.Equal(pt[1:], in.pt) {
				t.Fatalf("len %d: Open: %v", len(in.pt), err)
			}
			bad := bytes.Clone(want[i])
			bad[aead.GCMNonceSize+rng.IntN(len(bad)-aead.GCMNonceSize)] ^= 1 << rng.IntN(8)
			dst := make([]byte, 0, len(in.pt))
			if _, err := g.Open(dst, bad, in.ad); !errors.Is(err, aead.ErrAuth) {
				t.Fatalf("len %d: Open of a flipped bit: %v", len(in.pt), err)
			}
			if n := len(in.pt); n > 0 && !bytes.Equal(dst[:n], make([]byte, n)) {
				t.Fatalf("len %d: failed Open left plaintext in dst", n)
			}
		}
	})
}

// TestGCMPrefersVAES checks the dispatch order: where this CPU has the VAES
// path, it is what aead.GCM uses by default.
func TestGCMPrefersVAES(t *testing.T) {
	impl.Reset("gcm")
	if !slices.Contains(impl.List("gcm"), "VAES-512") {
		t.Skip("no VAES-512 on this CPU or build")
	}
	if got := impl.Active("gcm"); got != "VAES-512" {
		t.Fatalf("impl.Active(gcm) = %s, want VAES-512", got)
	}
}
