package poly1305_test

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	xpoly "golang.org/x/crypto/poly1305" //nolint:staticcheck // deprecated, but the reference here

	"github.com/atrest-dev/atrest/aead/internal/poly1305"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 8439 section 2.5.2 and appendix A.3 test vectors.
var vectors = []struct{ key, msg, tag string }{
	{"85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
		hex.EncodeToString([]byte("Cryptographic Forum Research Group")),
		"a8061dc1305136c6c22b8baf0c0127a9"},
	{"0000000000000000000000000000000000000000000000000000000000000000",
		"00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
		"00000000000000000000000000000000"},
	// A.3 #5: h reaches p, so the final reduction must subtract it.
	{"0200000000000000000000000000000000000000000000000000000000000000",
		"ffffffffffffffffffffffffffffffff", "03000000000000000000000000000000"},
	// A.3 #6: s overflows 2^128.
	{"02000000000000000000000000000000ffffffffffffffffffffffffffffffff",
		"02000000000000000000000000000000", "03000000000000000000000000000000"},
	// A.3 #7.
	{"0100000000000000000000000000000000000000000000000000000000000000",
		"fffffffffffffffffffffffffffffffff0ffffffffffffffffffffffffffffff11000000000000000000000000000000",
		"05000000000000000000000000000000"},
	// A.3 #8.
	{"0100000000000000000000000000000000000000000000000000000000000000",
		"fffffffffffffffffffffffffffffffffbfefefefefefefefefefefefefefefe01010101010101010101010101010101",
		"00000000000000000000000000000000"},
	// A.3 #9.
	{"0200000000000000000000000000000000000000000000000000000000000000",
		"fdffffffffffffffffffffffffffffff", "faffffffffffffffffffffffffffffff"},
	// A.3 #10.
	{"0100000000000000040000000000000000000000000000000000000000000000",
		"e33594d7505e43b900000000000000003394d7505e4379cd01000000000000000000000000000000000000000000000001000000000000000000000000000000",
		"14000000000000005500000000000000"},
	// A.3 #11.
	{"0100000000000000040000000000000000000000000000000000000000000000",
		"e33594d7505e43b900000000000000003394d7505e4379cd010000000000000000000000000000000000000000000000",
		"13000000000000000000000000000000"},
}

func TestVectors(t *testing.T) {
	for i, v := range vectors {
		key := [32]byte(unhex(t, v.key))
		got := poly1305.Sum(unhex(t, v.msg), &key)
		if want := unhex(t, v.tag); !bytes.Equal(got[:], want) {
			t.Errorf("vector %d: tag %x, want %x", i, got, want)
		}
	}
}

func TestAgainstXCrypto(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	msg := make([]byte, 1100)
	for n := 0; n <= len(msg); n++ {
		var key [32]byte
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		if n%7 == 0 { // extreme keys: r and s all ones, messages all ones
			for i := range key {
				key[i] = 0xff
			}
		}
		for i := range msg[:n] {
			msg[i] = byte(rng.Uint32())
			if n%5 == 0 {
				msg[i] = 0xff
			}
		}
		var want [16]byte
		xpoly.Sum(&want, msg[:n], &key)
		if got := poly1305.Sum(msg[:n], &key); got != want {
			t.Fatalf("len %d: tag %x, want %x", n, got, want)
		}
	}
}

// Mul must agree with repeated Blocks-free multiplication: (r^a)(r^b) = r^(a+b).
func TestMulPowers(t *testing.T) {
	key := [32]byte{}
	for i := range key {
		key[i] = 0xff
	}
	r := poly1305.KeyR(&key)
	pw := []poly1305.Elem{{1, 0, 0}}
	for i := 1; i <= 16; i++ {
		pw = append(pw, poly1305.Mul(pw[i-1], r))
	}
	for a := 0; a <= 8; a++ {
		for b := 0; b <= 8; b++ {
			x := poly1305.Tag(poly1305.Mul(pw[a], pw[b]), &[32]byte{})
			y := poly1305.Tag(pw[a+b], &[32]byte{})
			if x != y {
				t.Fatalf("r^%d r^%d = %x, r^%d = %x", a, b, x, a+b, y)
			}
		}
	}
}
