package aead_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/internal/impl"
)

// FuzzGCMImplsAgree checks that every GCM implementation seals to the same
// payload as the generic one and opens it, and that they agree on whether a
// mutated payload opens.
func FuzzGCMImplsAgree(f *testing.F) {
	f.Add(byte(0), make([]byte, 32), make([]byte, 12), []byte{}, []byte{}, uint16(0))
	f.Add(byte(1), []byte("0123456789abcdef0123456789abcdef"), []byte("cafebabefaceb"),
		bytes.Repeat([]byte("secret"), 100), []byte("/registry/secrets/default/s1"), uint16(77))
	f.Add(byte(2), bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 12),
		make([]byte, 4097), make([]byte, 300), uint16(4000))
	f.Fuzz(func(t *testing.T, ks byte, keyIn, nonceIn, pt, ad []byte, flip uint16) {
		key := make([]byte, []int{16, 24, 32}[ks%3])
		copy(key, keyIn)
		nonce := make([]byte, aead.GCMNonceSize)
		copy(nonce, nonceIn)
		g, err := aead.NewGCMWithNonces(key, fixedNonces(nonce))
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		impl.Each("gcm", func(name string) {
			got, err := g.Seal(nil, pt, ad)
			if err != nil {
				t.Fatal(err)
			}
			if want == nil {
				want = got
			} else if !bytes.Equal(got, want) {
				t.Fatalf("%s: Seal differs from the first implementation", name)
			}
			back, err := g.Open(nil, got, ad)
			if err != nil || !bytes.Equal(back, pt) {
				t.Fatalf("%s: Open: %v", name, err)
			}
			bad := bytes.Clone(got)
			bad[int(flip)%len(bad)] ^= 1 + byte(flip>>8)
			if _, err := g.Open(nil, bad, ad); !errors.Is(err, aead.ErrAuth) {
				t.Fatalf("%s: mutated payload: %v", name, err)
			}
		})
	})
}
