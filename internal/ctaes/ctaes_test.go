package ctaes_test

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/atrest-dev/atrest/internal/ctaes"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// FIPS-197 Appendix C: the example vectors for each key size.
var fips197 = []struct{ key, pt, ct string }{
	{"000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff", "69c4e0d86a7b0430d8cdb78070b4c55a"},
	{"000102030405060708090a0b0c0d0e0f1011121314151617", "00112233445566778899aabbccddeeff", "dda97ca4864cdfe06eaf70a0ec0d7191"},
	{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "00112233445566778899aabbccddeeff", "8ea2b7ca516745bfeafc49904b496089"},
}

func TestFIPS197(t *testing.T) {
	for _, v := range fips197 {
		c, err := ctaes.New(unhex(v.key))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 16)
		c.Encrypt(got, unhex(v.pt))
		if !bytes.Equal(got, unhex(v.ct)) {
			t.Errorf("AES-%d Encrypt = %x, want %s", 8*len(v.key)/2, got, v.ct)
		}
		c.Decrypt(got, unhex(v.ct))
		if !bytes.Equal(got, unhex(v.pt)) {
			t.Errorf("AES-%d Decrypt = %x, want %s", 8*len(v.key)/2, got, v.pt)
		}
	}
}

func TestKeySize(t *testing.T) {
	for _, n := range []int{0, 1, 15, 17, 23, 25, 31, 33, 64} {
		if _, err := ctaes.New(make([]byte, n)); !errors.Is(err, ctaes.ErrKeySize) {
			t.Errorf("New(%d bytes) = %v, want ErrKeySize", n, err)
		}
	}
}

// TestAgainstStdlib compares every entry point with crypto/aes on random keys
// and blocks of all three key sizes.
func TestAgainstStdlib(t *testing.T) {
	for _, ks := range []int{16, 24, 32} {
		for range 200 {
			key := make([]byte, ks)
			src := make([]byte, 64)
			rand.Read(key)
			rand.Read(src)
			c, err := ctaes.New(key)
			if err != nil {
				t.Fatal(err)
			}
			std, _ := aes.NewCipher(key)
			want := make([]byte, 64)
			for i := 0; i < 64; i += 16 {
				std.Encrypt(want[i:], src[i:])
			}
			got := make([]byte, 64)
			c.EncryptBlocks4(got, src)
			if !bytes.Equal(got, want) {
				t.Fatalf("AES-%d EncryptBlocks4 mismatch", 8*ks)
			}
			c.Encrypt(got, src)
			if !bytes.Equal(got[:16], want[:16]) {
				t.Fatalf("AES-%d Encrypt mismatch", 8*ks)
			}
			for n := 1; n <= 4; n++ {
				clear(got)
				c.EncryptBlocks(got, src[:16*n])
				if !bytes.Equal(got[:16*n], want[:16*n]) || !bytes.Equal(got[16*n:], make([]byte, 64-16*n)) {
					t.Fatalf("AES-%d EncryptBlocks(%d) mismatch", 8*ks, n)
				}
			}
			for i := 0; i < 64; i += 16 {
				std.Decrypt(want[i:], src[i:])
			}
			c.DecryptBlocks4(got, src)
			if !bytes.Equal(got, want) {
				t.Fatalf("AES-%d DecryptBlocks4 mismatch", 8*ks)
			}
			c.Decrypt(got, src)
			if !bytes.Equal(got[:16], want[:16]) {
				t.Fatalf("AES-%d Decrypt mismatch", 8*ks)
			}
			for n := 1; n <= 4; n++ {
				clear(got)
				c.DecryptBlocks(got, src[:16*n])
				if !bytes.Equal(got[:16*n], want[:16*n]) {
					t.Fatalf("AES-%d DecryptBlocks(%d) mismatch", 8*ks, n)
				}
			}
			// In place.
			buf := bytes.Clone(src)
			c.EncryptBlocks4(buf, buf)
			c.DecryptBlocks4(buf, buf)
			if !bytes.Equal(buf, src) {
				t.Fatalf("AES-%d in-place round trip failed", 8*ks)
			}
		}
	}
}

// TestSboxAllBytes runs all 256 byte values through one block position each,
// so every S-box input is checked against crypto/aes.
func TestSboxAllBytes(t *testing.T) {
	key := make([]byte, 16)
	c, _ := ctaes.New(key)
	std, _ := aes.NewCipher(key)
	src := make([]byte, 256)
	for i := range src {
		src[i] = byte(i)
	}
	got, want := make([]byte, 256), make([]byte, 256)
	for i := 0; i < 256; i += 64 {
		c.EncryptBlocks4(got[i:], src[i:])
		for j := i; j < i+64; j += 16 {
			std.Encrypt(want[j:], src[j:])
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatal("mismatch")
	}
}

func TestPanics(t *testing.T) {
	c, _ := ctaes.New(make([]byte, 16))
	for name, f := range map[string]func(){
		"Encrypt short":        func() { c.Encrypt(make([]byte, 16), make([]byte, 15)) },
		"Decrypt short":        func() { c.Decrypt(make([]byte, 15), make([]byte, 16)) },
		"EncryptBlocks4 short": func() { c.EncryptBlocks4(make([]byte, 64), make([]byte, 63)) },
		"DecryptBlocks4 short": func() { c.DecryptBlocks4(make([]byte, 63), make([]byte, 64)) },
		"EncryptBlocks 5":      func() { c.EncryptBlocks(make([]byte, 80), make([]byte, 80)) },
		"DecryptBlocks 0":      func() { c.DecryptBlocks(make([]byte, 16), nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
