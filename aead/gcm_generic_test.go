package aead

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"testing"
)

// TestGCMGenericAgainstStdlib checks the generic GCM against crypto/cipher for
// every plaintext length 0..4096, all key sizes, with and without additional
// data, and checks that it opens what crypto/cipher seals.
func TestGCMGenericAgainstStdlib(t *testing.T) {
	maxLen := 4096
	if testing.Short() {
		maxLen = 300
	}
	for _, ks := range []int{16, 24, 32} {
		key := make([]byte, ks)
		rand.Read(key)
		gen := new(gcmGeneric)
		if err := gen.init(key); err != nil {
			t.Fatal(err)
		}
		blk, _ := aes.NewCipher(key)
		std, _ := cipher.NewGCM(blk)
		nonce := make([]byte, 12)
		pt := make([]byte, maxLen)
		ad := make([]byte, 70)
		rand.Read(pt)
		rand.Read(ad)
		for n := 0; n <= maxLen; n++ {
			if ks != 32 && n%7 != 0 {
				continue // every length for AES-256, a sample for the others
			}
			rand.Read(nonce)
			a := ad[:n%len(ad)]
			want := std.Seal(nil, nonce, pt[:n], a)
			got := gen.seal(nil, nonce, pt[:n], a)
			if !bytes.Equal(got, want) {
				t.Fatalf("AES-%d len %d: seal differs from crypto/cipher", 8*ks, n)
			}
			back, err := gen.open([]byte("prefix"), nonce, want, a)
			if err != nil || !bytes.Equal(back[6:], pt[:n]) || string(back[:6]) != "prefix" {
				t.Fatalf("AES-%d len %d: open = %v", 8*ks, n, err)
			}
		}
	}
}

func TestGCMGenericInPlaceAndTamper(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	gen := new(gcmGeneric)
	gen.init(key)
	nonce := make([]byte, 12)
	rand.Read(nonce)
	ad := []byte("/registry/secrets/default/s1")
	for _, n := range []int{0, 1, 15, 16, 17, 47, 48, 49, 64, 65, 1000} {
		pt := make([]byte, n)
		rand.Read(pt)
		buf := make([]byte, n, n+16)
		copy(buf, pt)
		sealed := gen.seal(buf[:0], nonce, buf, ad) // in place
		opened, err := gen.open(sealed[:0], nonce, sealed, ad)
		if err != nil || !bytes.Equal(opened, pt) {
			t.Fatalf("len %d: in-place round trip: %v", n, err)
		}
		sealed = gen.seal(nil, nonce, pt, ad)
		for _, i := range []int{0, len(sealed) / 2, len(sealed) - 1} {
			bad := bytes.Clone(sealed)
			bad[i] ^= 0x80
			out := bytes.Repeat([]byte{0xAA}, len(sealed))
			if _, err := gen.open(out[:0], nonce, bad, ad); err == nil {
				t.Fatalf("len %d: flipped byte %d accepted", n, i)
			}
			if !bytes.Equal(out, bytes.Repeat([]byte{0xAA}, len(sealed))) {
				t.Fatalf("len %d: failed open wrote to out", n)
			}
		}
		if _, err := gen.open(nil, nonce, sealed, ad[1:]); err == nil {
			t.Fatalf("len %d: wrong ad accepted", n)
		}
	}
	if _, err := gen.open(nil, nonce, make([]byte, 15), nil); err == nil {
		t.Fatal("short ciphertext accepted")
	}
}
