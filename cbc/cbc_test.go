package cbc_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/atrest-dev/atrest/cbc"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// NIST SP 800-38A, F.2.1, F.2.3 and F.2.5 (CBC-AES128/192/256.Encrypt).
var nistVectors = []struct{ name, key, ct string }{
	{"F.2.1 AES-128", "2b7e151628aed2a6abf7158809cf4f3c",
		"7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"},
	{"F.2.3 AES-192", "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
		"4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd"},
	{"F.2.5 AES-256", "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
		"f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"},
}

const (
	nistIV = "000102030405060708090a0b0c0d0e0f"
	nistPT = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
)

func TestNISTVectors(t *testing.T) {
	for _, v := range nistVectors {
		t.Run(v.name, func(t *testing.T) {
			c, err := cbc.New(unhex(v.key))
			if err != nil {
				t.Fatal(err)
			}
			cbc.SetRand(c, bytes.NewReader(unhex(nistIV)))
			pt := unhex(nistPT)
			sealed, err := c.Seal(nil, pt, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := append(unhex(nistIV), unhex(v.ct)...)
			// 64 bytes of plaintext take a full block of padding after the four NIST blocks.
			if len(sealed) != 16+64+16 || !bytes.Equal(sealed[:80], want) {
				t.Fatalf("Seal = %x\nwant %x…", sealed, want)
			}
			got, err := c.Open(nil, sealed, nil)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("Open = %x, %v", got, err)
			}
		})
	}
}

// TestAgainstStdlib checks every length 0..600 and every key size against
// crypto/cipher's CBC mode with explicit PKCS#7 padding.
func TestAgainstStdlib(t *testing.T) {
	for _, ks := range []int{16, 24, 32} {
		key := make([]byte, ks)
		rand.Read(key)
		c, _ := cbc.New(key)
		block, _ := aes.NewCipher(key)
		for n := 0; n <= 600; n++ {
			pt := make([]byte, n)
			rand.Read(pt)
			iv := make([]byte, 16)
			rand.Read(iv)
			cbc.SetRand(c, bytes.NewReader(iv))
			sealed, err := c.Seal([]byte("prefix"), pt, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := 16 - n%16
			padded := append(bytes.Clone(pt), bytes.Repeat([]byte{byte(p)}, p)...)
			want := make([]byte, len(padded))
			cipher.NewCBCEncrypter(block, iv).CryptBlocks(want, padded)
			want = append(append([]byte("prefix"), iv...), want...)
			if !bytes.Equal(sealed, want) {
				t.Fatalf("key %d, len %d: Seal differs from crypto/cipher", ks, n)
			}
			got, err := c.Open([]byte("x"), sealed[6:], nil)
			if err != nil || !bytes.Equal(got, append([]byte("x"), pt...)) {
				t.Fatalf("key %d, len %d: Open = %v", ks, n, err)
			}
		}
	}
}

func TestKeySizes(t *testing.T) {
	for n := 0; n <= 64; n++ {
		_, err := cbc.New(make([]byte, n))
		if ok := n == 16 || n == 24 || n == 32; ok != (err == nil) {
			t.Errorf("key of %d bytes: err = %v", n, err)
		}
		if err != nil && !errors.Is(err, cbc.ErrKeySize) {
			t.Errorf("key of %d bytes: err = %v, want ErrKeySize", n, err)
		}
	}
}

func TestOpenBadInput(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	c, _ := cbc.New(key)
	sealed, _ := c.Seal(nil, []byte("some secret value"), nil)
	other, _ := cbc.New(make([]byte, 32))
	cases := []struct {
		name    string
		c       *cbc.Cipher
		payload []byte
		want    error
	}{
		{"nil", c, nil, cbc.ErrTooShort},
		{"IV only", c, sealed[:16], cbc.ErrTooShort},
		{"15 bytes", c, sealed[:15], cbc.ErrTooShort},
		{"truncated", c, sealed[:len(sealed)-1], cbc.ErrBlockSize},
		{"extra byte", c, append(bytes.Clone(sealed), 0), cbc.ErrBlockSize},
	}
	for _, tc := range cases {
		if _, err := tc.c.Open(nil, tc.payload, nil); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	// A wrong key almost always breaks the padding; count the exceptions.
	wrong := 0
	for i := 0; i < 2000; i++ {
		s, _ := c.Seal(nil, []byte("value"), nil)
		if _, err := other.Open(nil, s, nil); err == nil {
			wrong++
		} else if !errors.Is(err, cbc.ErrPadding) {
			t.Fatalf("wrong key: err = %v", err)
		}
	}
	if wrong > 40 { // ≈ 2000·(1/256 + 1/65536 + …) ≈ 8 expected
		t.Errorf("wrong key accepted %d of 2000 times", wrong)
	}
}

// TestOpenLeavesNothing checks that a failed Open returns dst unchanged and
// leaves no decrypted bytes in its spare capacity.
func TestOpenLeavesNothing(t *testing.T) {
	c, _ := cbc.New(make([]byte, 16))
	sealed, _ := c.Seal(nil, bytes.Repeat([]byte("A"), 40), nil)
	sealed[len(sealed)-17] ^= 1 // flip a bit of the last padding byte
	dst := make([]byte, 2, 200)
	got, err := c.Open(dst, sealed, nil)
	if !errors.Is(err, cbc.ErrPadding) || len(got) != 2 {
		t.Fatalf("Open = %d bytes, %v", len(got), err)
	}
	if bytes.Contains(dst[:cap(dst)], []byte("AAAA")) {
		t.Fatal("decrypted bytes left in dst's capacity")
	}
}

func TestOpenAllocations(t *testing.T) {
	c, _ := cbc.New(make([]byte, 32))
	sealed, _ := c.Seal(nil, make([]byte, 4096), nil)
	dst := make([]byte, 0, 8192)
	if n := testing.AllocsPerRun(20, func() { c.Open(dst, sealed, nil) }); n != 0 {
		t.Errorf("Open with room in dst: %v allocations", n)
	}
	if n := testing.AllocsPerRun(20, func() { c.Seal(dst, sealed, nil) }); n != 0 {
		t.Errorf("Seal with room in dst: %v allocations", n)
	}
	out, _ := c.Open(nil, sealed, nil)
	if cap(out) > len(sealed)-16 {
		t.Errorf("Open allocated %d bytes for a %d-byte payload", cap(out), len(sealed))
	}
}

func TestOverlapPanics(t *testing.T) {
	c, _ := cbc.New(make([]byte, 32))
	sealed, _ := c.Seal(make([]byte, 0, 256), make([]byte, 50), nil)
	defer func() {
		if recover() == nil {
			t.Fatal("Open into its own payload did not panic")
		}
	}()
	c.Open(sealed[:0], sealed, nil)
}

func TestSealInPlace(t *testing.T) {
	c, _ := cbc.New(make([]byte, 32))
	buf := make([]byte, 0, 256)
	pt := append(buf, "hello, overlapping world"...)
	want := bytes.Clone(pt)
	sealed, err := c.Seal(buf, pt, nil) // plaintext sits where the IV goes
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Open(nil, sealed, nil)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Open = %q, %v", got, err)
	}
}
