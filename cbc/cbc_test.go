package cbc_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	mrand "math/rand/v2"
	"testing"

	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/internal/cryptotest"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// fixedIV hands out the same IV on every read, for known-answer tests.
type fixedIV []byte

func (f fixedIV) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = f[i%len(f)]
	}
	return len(b), nil
}

// withIV returns a Cipher for key whose Seal uses iv.
func withIV(key, iv []byte) (*cbc.Cipher, error) {
	c, err := cbc.New(key)
	if err != nil {
		return nil, err
	}
	cbc.SetRand(c, fixedIV(bytes.Clone(iv)))
	return c, nil
}

var spec = cryptotest.Spec{
	Pkg:       "cbc",
	KeySizes:  []int{16, 24, 32},
	NonceSize: cbc.BlockSize,
	New: func(key, iv []byte) (cryptotest.Sealer, error) {
		return withIV(key, iv)
	},
	OpenOverhead: cbc.BlockSize,
	MinPayload:   2 * cbc.BlockSize,
	ErrTooShort:  cbc.ErrTooShort,
	ErrAuth:      cbc.ErrPadding, // aescbc authenticates nothing: bad padding is all Open can see
	SealInPlace:  true,
}

// TestContract runs the Seal/Open contract over every implementation.
func TestContract(t *testing.T) { cryptotest.TestSealer(t, spec) }

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

// TestNISTVectors runs the SP 800-38A vectors through every implementation.
// The vectors' four blocks are the payload after the IV; Seal adds a fifth,
// a full block of padding, which the vectors do not cover.
func TestNISTVectors(t *testing.T) {
	var vs []cryptotest.Vector
	for _, v := range nistVectors {
		vs = append(vs, cryptotest.Vector{
			Name: v.name, Key: unhex(v.key), Nonce: unhex(nistIV), Plaintext: unhex(nistPT),
			Payload: append(unhex(nistIV), unhex(v.ct)...), Prefix: true,
		})
	}
	cryptotest.TestVectors(t, spec, vs)
}

// TestAgainstStdlib checks every length 0..600 and every key size against
// crypto/cipher's CBC mode with explicit PKCS#7 padding, under every
// implementation: Seal gives the same bytes, Open reads what crypto/cipher
// wrote.
func TestAgainstStdlib(t *testing.T) {
	max := 600
	if testing.Short() {
		max = 100
	}
	cryptotest.Each(t, "cbc", func(t *testing.T, name string) {
		for _, ks := range []int{16, 24, 32} {
			key := make([]byte, ks)
			rand.Read(key)
			block, _ := aes.NewCipher(key)
			for n := 0; n <= max; n++ {
				pt := make([]byte, n)
				rand.Read(pt)
				iv := make([]byte, 16)
				rand.Read(iv)
				c, _ := withIV(key, iv)
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
				got, err := c.Open([]byte("x"), want[6:], nil)
				if err != nil || !bytes.Equal(got, append([]byte("x"), pt...)) {
					t.Fatalf("key %d, len %d: Open of crypto/cipher's payload = %v", ks, n, err)
				}
			}
		}
	})
}

// TestImplsAgreeAllLengths compares every implementation with the generic
// path for each key size and every plaintext length 0..4096 (every tail of
// the 12-register kernels): Seal with a fixed IV gives the same bytes, and
// Open of a corrupted payload fails or succeeds alike, with the same result.
func TestImplsAgreeAllLengths(t *testing.T) {
	max := 4096
	if testing.Short() {
		max = 600
	}
	type in struct{ key, iv, pt, payload, bad []byte }
	rng := mrand.New(mrand.NewPCG(1, 2))
	fill := func(b []byte) {
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
	}
	var ins []in
	for n := 0; n <= max; n++ {
		x := in{key: make([]byte, []int{16, 24, 32}[n%3]), iv: make([]byte, 16), pt: make([]byte, n)}
		fill(x.key)
		fill(x.iv)
		fill(x.pt)
		ins = append(ins, x)
	}
	type result struct {
		out []byte
		err error
	}
	var want []result
	cryptotest.Each(t, "cbc", func(t *testing.T, name string) {
		for i := range ins {
			x := &ins[i]
			c, _ := withIV(x.key, x.iv)
			payload, err := c.Seal(nil, x.pt, nil)
			if err != nil {
				t.Fatal(err)
			}
			if x.payload == nil { // the first implementation sets the reference
				x.payload = payload
				x.bad = bytes.Clone(payload)
				x.bad[rng.IntN(len(payload))] ^= 1 << rng.IntN(8)
			}
			if !bytes.Equal(payload, x.payload) {
				t.Fatalf("len %d: Seal differs from the first implementation", len(x.pt))
			}
			got, err := c.Open(nil, x.bad, nil)
			if len(want) <= i {
				want = append(want, result{got, err})
			} else if !errors.Is(err, want[i].err) || (err == nil) != (want[i].err == nil) || !bytes.Equal(got, want[i].out) {
				t.Fatalf("len %d: Open of a corrupted payload = %v, first implementation %v", len(x.pt), err, want[i].err)
			}
		}
	})
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

// TestOpenBadInput checks the errors particular to aescbc payloads.
func TestOpenBadInput(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	c, _ := cbc.New(key)
	sealed, _ := c.Seal(nil, []byte("some secret value"), nil)
	other, _ := cbc.New(make([]byte, 32))
	for _, tc := range []struct {
		name    string
		payload []byte
		want    error
	}{
		{"IV only", sealed[:16], cbc.ErrTooShort},
		{"truncated", sealed[:len(sealed)-1], cbc.ErrBlockSize},
		{"extra byte", append(bytes.Clone(sealed), 0), cbc.ErrBlockSize},
	} {
		if _, err := c.Open(nil, tc.payload, nil); !errors.Is(err, tc.want) {
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

// TestRandomIVs checks that Seal draws a fresh IV from crypto/rand.
func TestRandomIVs(t *testing.T) {
	c, _ := cbc.New(make([]byte, 16))
	a, _ := c.Seal(nil, []byte("same"), nil)
	b, _ := c.Seal(nil, []byte("same"), nil)
	if bytes.Equal(a[:16], b[:16]) {
		t.Fatal("two Seals used the same IV")
	}
}
