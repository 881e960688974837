package cbc_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"testing"

	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/internal/impl"
)

// TestEveryImpl runs the NIST vectors and a comparison with crypto/cipher
// for lengths 0..300 through every CBC implementation this CPU has, the
// portable (bitsliced) one included, so the four-block decrypt batching is
// checked at every tail length.
func TestEveryImpl(t *testing.T) {
	defer impl.Reset("cbc")
	for _, name := range impl.List("cbc") {
		if !impl.Select("cbc", name) {
			t.Fatalf("cannot select %s", name)
		}
		for _, v := range nistVectors {
			c, _ := cbc.New(unhex(v.key))
			cbc.SetRand(c, bytes.NewReader(unhex(nistIV)))
			sealed, err := c.Seal(nil, unhex(nistPT), nil)
			want := append(unhex(nistIV), unhex(v.ct)...)
			if err != nil || !bytes.Equal(sealed[:80], want) {
				t.Fatalf("%s %s: Seal = %x", name, v.name, sealed)
			}
			if got, err := c.Open(nil, sealed, nil); err != nil || !bytes.Equal(got, unhex(nistPT)) {
				t.Fatalf("%s %s: Open = %x, %v", name, v.name, got, err)
			}
		}
		for _, ks := range []int{16, 24, 32} {
			key := make([]byte, ks)
			rand.Read(key)
			c, _ := cbc.New(key)
			block, _ := aes.NewCipher(key)
			for n := 0; n <= 300; n++ {
				pt := make([]byte, n)
				rand.Read(pt)
				p := 16 - n%16
				padded := append(bytes.Clone(pt), bytes.Repeat([]byte{byte(p)}, p)...)
				iv := make([]byte, 16)
				rand.Read(iv)
				payload := make([]byte, len(padded))
				cipher.NewCBCEncrypter(block, iv).CryptBlocks(payload, padded)
				payload = append(iv, payload...)
				got, err := c.Open(nil, payload, nil)
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("%s AES-%d len %d: Open = %v", name, 8*ks, n, err)
				}
			}
		}
	}
}

// BenchmarkRef measures Open (decrypt and unpad) and Seal of a 16 KiB value
// with AES-256 on each implementation, the portable one included.
func BenchmarkRef(b *testing.B) {
	defer impl.Reset("cbc")
	key := make([]byte, 32)
	pt := make([]byte, 16<<10)
	for _, name := range impl.List("cbc") {
		impl.Select("cbc", name)
		c, _ := cbc.New(key)
		sealed, _ := c.Seal(nil, pt, nil)
		dst := make([]byte, 0, len(sealed))
		b.Run("op=Open/impl="+name, func(b *testing.B) {
			b.SetBytes(int64(len(pt)))
			for b.Loop() {
				if _, err := c.Open(dst[:0], sealed, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("op=Seal/impl="+name, func(b *testing.B) {
			b.SetBytes(int64(len(pt)))
			for b.Loop() {
				c.Seal(dst[:0], pt, nil)
			}
		})
	}
}
