package aead_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/internal/cpu"
	"github.com/atrest-dev/atrest/internal/cryptotest"
	"github.com/atrest-dev/atrest/internal/impl"
)

// The AES-192 test cases of McGrew and Viega (7 to 10; 11 and 12 have
// nonces of other lengths than 12 bytes, which aesgcm never uses).
var gcmVectors192 = []struct{ name, key, iv, pt, ad, ct, tag string }{
	{"TC7", zeros(24), zeros(12), "", "", "", "cd33b28ac773f74ba00ed1f312572435"},
	{"TC8", zeros(24), zeros(12), zeros(16), "", "98e7247c07f0fe411c267e4384b0f600", "2ff58d80033927ab8ef4d4587514f0fb"},
	{"TC9", tc3Key + tc3Key[:16], tcIV, tc3PT, "",
		"3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710acade256",
		"9924a7c8587336bfb118024db8674a14"},
	{"TC10", tc3Key + tc3Key[:16], tcIV, tc3PT[:120], tc4AD,
		"3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
		"2519498e80f1478f37ba55bd6d27618c"},
}

func zeros(n int) string { return string(bytes.Repeat([]byte("00"), n)) }

// selectGCM forces implementation name of gcm for the rest of the test, or
// skips the test where this CPU or build does not have it.
func selectGCM(t testing.TB, name string) {
	t.Helper()
	if !slices.Contains(impl.List("gcm"), name) {
		t.Skipf("no %s GCM on this CPU or build", name)
	}
	cryptotest.Use(t, "gcm", name)
}

// TestGCMVectors192PerImpl runs the AES-192 vectors through every
// implementation.
func TestGCMVectors192PerImpl(t *testing.T) {
	cryptotest.Each(t, "gcm", func(t *testing.T, _ string) { checkGCMVectors192(t) })
}

func checkGCMVectors192(t *testing.T) {
	for _, v := range gcmVectors192 {
		g, err := aead.NewGCMWithNonces(unhex(v.key), fixedNonces(unhex(v.iv)))
		if err != nil {
			t.Fatal(err)
		}
		want := unhex(v.iv + v.ct + v.tag)
		got, err := g.Seal(nil, unhex(v.pt), unhex(v.ad))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: Seal = %x, %v\nwant   %x", v.name, got, err, want)
		}
		if pt, err := g.Open(nil, want, unhex(v.ad)); err != nil || !bytes.Equal(pt, unhex(v.pt)) {
			t.Fatalf("%s: Open = %x, %v", v.name, pt, err)
		}
	}
}

// TestGCMVAES256Vectors runs every McGrew–Viega vector with a 12-byte
// nonce, AES-128, -192 and -256, on the VAES-256 path.
func TestGCMVAES256Vectors(t *testing.T) {
	selectGCM(t, "VAES-256")
	if got := impl.Uses("gcm"); !slices.Equal(got, []string{"VAES-256"}) {
		t.Fatalf("impl.Uses(gcm) = %v after Select", got)
	}
	TestGCMVectors(t)
	checkGCMVectors192(t)
}

// TestGCMVAES256EveryLength checks the VAES-256 path against crypto/cipher
// and the generic path at every plaintext length 0..4096 for each key size,
// the additional data cycling through lengths around the block and vector
// boundaries and the 256-byte loop. Open must invert Seal, and a payload
// with one flipped bit must fail with ErrAuth and leave the destination's
// spare capacity zeroed (the kernel writes plaintext there before the tag
// is checked).
func TestGCMVAES256EveryLength(t *testing.T) {
	selectGCM(t, "VAES-256")
	maxLen := 4096
	if testing.Short() {
		maxLen = 700
	}
	adLens := []int{0, 1, 13, 16, 17, 31, 32, 33, 64, 100, 127, 128, 255, 256, 257, 1000, 4100}
	rng := rand.New(rand.NewChaCha8([32]byte{25, 6}))
	fill := func(b []byte) []byte {
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for _, ks := range []int{16, 24, 32} {
		for n := 0; n <= maxLen; n++ {
			key, nonce := fill(make([]byte, ks)), fill(make([]byte, aead.GCMNonceSize))
			off := rng.IntN(32) // misaligned source now and then
			pt := fill(make([]byte, off+n))[off:]
			ad := fill(make([]byte, adLens[(n+ks)%len(adLens)]))

			blk, _ := aes.NewCipher(key)
			std, _ := cipher.NewGCM(blk)
			want := std.Seal(bytes.Clone(nonce), nonce, pt, ad)

			g, err := aead.NewGCMWithNonces(key, fixedNonces(nonce))
			if err != nil {
				t.Fatal(err)
			}
			impl.Select("gcm", impl.Generic)
			ref, _ := g.Seal(nil, pt, ad)
			impl.Select("gcm", "VAES-256")
			got, _ := g.Seal([]byte{0xAA}, pt, ad)
			if !bytes.Equal(ref, want) || !bytes.Equal(got[1:], want) || got[0] != 0xAA {
				t.Fatalf("key %d, len %d, ad %d: Seal differs\nvaes256  %x\ngeneric  %x\nstdlib   %x",
					ks, n, len(ad), got[1:], ref, want)
			}

			dst := make([]byte, 2, 2+n)
			back, err := g.Open(dst, want, ad)
			if err != nil || !bytes.Equal(back[2:], pt) {
				t.Fatalf("key %d, len %d, ad %d: Open: %v", ks, n, len(ad), err)
			}

			bad := bytes.Clone(want)
			bad[aead.GCMNonceSize+rng.IntN(len(bad)-aead.GCMNonceSize)] ^= 1 << rng.IntN(8)
			spare := dst[:cap(dst)]
			for i := range spare {
				spare[i] = 0xAA
			}
			if out, err := g.Open(dst[:2], bad, ad); !errors.Is(err, aead.ErrAuth) || len(out) != 2 {
				t.Fatalf("key %d, len %d: Open of a flipped bit: %v", ks, n, err)
			}
			if !bytes.Equal(spare[2:], make([]byte, n)) {
				t.Fatalf("key %d, len %d: failed Open left data in dst: %x", ks, n, spare[2:])
			}
		}
	}
}

// TestGCMVAES256ADLengths checks every additional-data length 0..600 (and
// some long ones), which exercises the 256-byte GHASH loop, the 32-byte
// vectors and the partial vector of the AD, against crypto/cipher.
func TestGCMVAES256ADLengths(t *testing.T) {
	selectGCM(t, "VAES-256")
	rng := rand.New(rand.NewChaCha8([32]byte{25, 7}))
	key := make([]byte, 32)
	nonce := make([]byte, aead.GCMNonceSize)
	pt := make([]byte, 300)
	ad := make([]byte, 70000)
	for _, b := range [][]byte{key, nonce, pt, ad} {
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
	}
	blk, _ := aes.NewCipher(key)
	std, _ := cipher.NewGCM(blk)
	g, err := aead.NewGCMWithNonces(key, fixedNonces(nonce))
	if err != nil {
		t.Fatal(err)
	}
	lens := []int{1000, 4096, 4097, 65536, 70000}
	for n := 0; n <= 600; n++ {
		lens = append(lens, n)
	}
	for _, na := range lens {
		for _, np := range []int{0, 1, 33, 300} {
			want := std.Seal(bytes.Clone(nonce), nonce, pt[:np], ad[:na])
			got, _ := g.Seal(nil, pt[:np], ad[:na])
			if !bytes.Equal(got, want) {
				t.Fatalf("ad %d, pt %d: Seal differs from crypto/cipher", na, np)
			}
			if back, err := g.Open(nil, got, ad[:na]); err != nil || !bytes.Equal(back, pt[:np]) {
				t.Fatalf("ad %d, pt %d: Open: %v", na, np, err)
			}
		}
	}
}

// TestGCMVAES256Long checks long messages (many loop iterations, and every
// tail length after them) against crypto/cipher.
func TestGCMVAES256Long(t *testing.T) {
	selectGCM(t, "VAES-256")
	rng := rand.New(rand.NewChaCha8([32]byte{25, 8}))
	big := make([]byte, 1<<20+400)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	for _, ks := range []int{16, 24, 32} {
		key, nonce := big[:ks], big[100:112]
		blk, _ := aes.NewCipher(key)
		std, _ := cipher.NewGCM(blk)
		g, err := aead.NewGCMWithNonces(key, fixedNonces(nonce))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1 << 20, 1<<20 + 127, 65536 + 1, 65536 + 128 + 31, 8191, 12345} {
			pt, ad := big[200:200+n], big[:13]
			want := std.Seal(bytes.Clone(nonce), nonce, pt, ad)
			got, _ := g.Seal(nil, pt, ad)
			if !bytes.Equal(got, want) {
				t.Fatalf("key %d, len %d: Seal differs from crypto/cipher", ks, n)
			}
			if back, err := g.Open(nil, got, ad); err != nil || !bytes.Equal(back, pt) {
				t.Fatalf("key %d, len %d: Open: %v", ks, n, err)
			}
		}
	}
}

// TestGCMVAES256DefaultWithoutAVX512 runs this test binary again with
// GODEBUG=atrestavx512=0, as on a CPU with VAES but no AVX-512: on Zen 5,
// whose table rows name VAES-256 as the alternative to VAES-512 (measured
// there), aead.GCM must then take VAES-256 at every length; on every other
// CPU class (no measured VAES-256 rows) the standard library's path.
func TestGCMVAES256DefaultWithoutAVX512(t *testing.T) {
	if os.Getenv("ATREST_GCM_CHILD") == "1" {
		fmt.Printf("active=%s\n", impl.Describe("gcm"))
		return
	}
	if !slices.Contains(impl.List("gcm"), "VAES-256") {
		t.Skip("no VAES-256 GCM on this CPU or build")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestGCMVAES256DefaultWithoutAVX512$")
	cmd.Env = append(os.Environ(), "ATREST_GCM_CHILD=1", "GODEBUG=atrestavx512=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := "stdlib"
	if cpu.This == cpu.AMDZen5 {
		want = "VAES-256"
	}
	if !bytes.Contains(out, []byte("active="+want+"\n")) {
		t.Fatalf("without AVX-512 on a CPU of class %v, want %s: %s", cpu.This, want, out)
	}
}

// FuzzGCMVAES256 is a differential target: the VAES-256 path must seal
// exactly as crypto/cipher's GCM, open what it seals, and reject a mutated
// payload with ErrAuth leaving no plaintext in dst.
func FuzzGCMVAES256(f *testing.F) {
	f.Add(byte(0), make([]byte, 32), make([]byte, 12), []byte{}, []byte{}, uint16(0))
	f.Add(byte(1), []byte("0123456789abcdef0123456789abcdef"), []byte("cafebabefaceb"),
		bytes.Repeat([]byte("secret"), 100), []byte("/registry/secrets/default/s1"), uint16(77))
	f.Add(byte(2), bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 12),
		make([]byte, 4097), make([]byte, 300), uint16(4000))
	f.Add(byte(2), []byte("k"), []byte("n"), make([]byte, 159), make([]byte, 31), uint16(0x8001))
	f.Fuzz(func(t *testing.T, ks byte, keyIn, nonceIn, pt, ad []byte, flip uint16) {
		selectGCM(t, "VAES-256")
		key := make([]byte, []int{16, 24, 32}[ks%3])
		copy(key, keyIn)
		nonce := make([]byte, aead.GCMNonceSize)
		copy(nonce, nonceIn)
		blk, _ := aes.NewCipher(key)
		std, _ := cipher.NewGCM(blk)
		want := std.Seal(bytes.Clone(nonce), nonce, pt, ad)
		g, err := aead.NewGCMWithNonces(key, fixedNonces(nonce))
		if err != nil {
			t.Fatal(err)
		}
		got, err := g.Seal(nil, pt, ad)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Seal differs from crypto/cipher (len %d, ad %d)", len(pt), len(ad))
		}
		back, err := g.Open(nil, got, ad)
		if err != nil || !bytes.Equal(back, pt) {
			t.Fatalf("Open: %v", err)
		}
		bad := bytes.Clone(got)
		bad[int(flip)%len(bad)] ^= 1 + byte(flip>>8)
		dst := bytes.Repeat([]byte{0xAA}, len(pt)+1)
		if _, err := g.Open(dst[:1], bad, ad); !errors.Is(err, aead.ErrAuth) {
			t.Fatalf("mutated payload: %v", err)
		}
		if _, err := std.Open(nil, bad[:aead.GCMNonceSize], bad[aead.GCMNonceSize:], ad); err == nil {
			t.Fatal("crypto/cipher opened the mutated payload")
		}
		if !bytes.Equal(dst[1:], make([]byte, len(pt))) {
			t.Fatal("failed Open left data in dst")
		}
	})
}
