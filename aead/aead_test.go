package aead_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/aead"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// fixedNonces hands out one nonce, for known-answer tests.
type fixedNonces []byte

func (f fixedNonces) FillNonce(b []byte) error { copy(b, f); return nil }

type failingNonces struct{}

func (failingNonces) FillNonce([]byte) error { return errors.New("entropy gone") }

const (
	tc3Key = "feffe9928665731c6d6a8f9467308308"
	tc3PT  = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
	tc4AD  = "feedfacedeadbeeffeedfacedeadbeefabaddad2"
	tcIV   = "cafebabefacedbaddecaf888"
)

// The test cases of McGrew and Viega, "The Galois/Counter Mode of Operation
// (GCM)", the appendix NIST's GCM specification adopts.
var gcmVectors = []struct{ name, key, iv, pt, ad, ct, tag string }{
	{"TC1", "00000000000000000000000000000000", "000000000000000000000000", "", "", "", "58e2fccefa7e3061367f1d57a4e7455a"},
	{"TC2", "00000000000000000000000000000000", "000000000000000000000000", "00000000000000000000000000000000", "",
		"0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"},
	{"TC3", tc3Key, tcIV, tc3PT, "",
		"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
		"4d5c2af327cd64a62cf35abd2ba6fab4"},
	{"TC4", tc3Key, tcIV, tc3PT[:120], tc4AD,
		"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
		"5bc94fbc3221a5db94fae95ae7121a47"},
	{"TC13", strings.Repeat("00", 32), "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
	{"TC14", strings.Repeat("00", 32), "000000000000000000000000", "00000000000000000000000000000000", "",
		"cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
	{"TC15", tc3Key + tc3Key, tcIV, tc3PT, "",
		"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
		"b094dac5d93471bdec1a502270e3cc6c"},
	{"TC16", tc3Key + tc3Key, tcIV, tc3PT[:120], tc4AD,
		"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
		"76fc6ece0f4e1768cddf8853bb2d551b"},
}

func TestGCMVectors(t *testing.T) {
	for _, v := range gcmVectors {
		t.Run(v.name, func(t *testing.T) {
			g, err := aead.NewGCMWithNonces(unhex(v.key), fixedNonces(unhex(v.iv)))
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(v.iv + v.ct + v.tag)
			got, err := g.Seal(nil, unhex(v.pt), unhex(v.ad))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Seal = %x, %v\nwant   %x", got, err, want)
			}
			pt, err := g.Open(nil, want, unhex(v.ad))
			if err != nil || !bytes.Equal(pt, unhex(v.pt)) {
				t.Fatalf("Open = %x, %v", pt, err)
			}
			want[len(want)-1] ^= 1
			if _, err := g.Open(nil, want, unhex(v.ad)); !errors.Is(err, aead.ErrAuth) {
				t.Fatalf("Open of a flipped tag: %v", err)
			}
		})
	}
}

// The NaCl distribution's secretbox test (tests/secretbox.c), as x/crypto and
// libsodium also use it: the box printed there is tag || ciphertext.
func TestSecretboxNaClVector(t *testing.T) {
	key := unhex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389")
	nonce := unhex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37")
	msg := unhex("be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705")
	box := unhex("f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5")
	s, err := aead.NewSecretbox(key)
	if err != nil {
		t.Fatal(err)
	}
	aead.SetNonces(s, fixedNonces(nonce))
	got, err := s.Seal(nil, msg, []byte("ignored"))
	want := append(bytes.Clone(nonce), box...)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Seal = %x, %v\nwant   %x", got, err, want)
	}
	pt, err := s.Open(nil, want, nil)
	if err != nil || !bytes.Equal(pt, msg) {
		t.Fatalf("Open = %x, %v", pt, err)
	}
}

type primitive interface {
	Seal(dst, plaintext, ad []byte) ([]byte, error)
	Open(dst, payload, ad []byte) ([]byte, error)
	SealedLen(int) int
}

func primitives(t *testing.T) map[string]primitive {
	out := map[string]primitive{}
	for _, ks := range []int{16, 24, 32} {
		key := make([]byte, ks)
		rand.Read(key)
		g, err := aead.NewGCM(key)
		if err != nil {
			t.Fatal(err)
		}
		out["gcm-"+string(rune('0'+ks/8))] = g
	}
	key := make([]byte, 32)
	rand.Read(key)
	s, err := aead.NewSecretbox(key)
	if err != nil {
		t.Fatal(err)
	}
	out["secretbox"] = s
	return out
}

func TestRoundTripAndTamper(t *testing.T) {
	ad := []byte("/registry/secrets/default/s1")
	for name, p := range primitives(t) {
		for n := 0; n <= 1100; n += 1 + n/7 {
			pt := make([]byte, n)
			rand.Read(pt)
			sealed, err := p.Seal([]byte("pre"), pt, ad)
			if err != nil || len(sealed) != 3+p.SealedLen(n) {
				t.Fatalf("%s/%d: Seal: %d bytes, %v", name, n, len(sealed), err)
			}
			payload := sealed[3:]
			got, err := p.Open([]byte("x"), payload, ad)
			if err != nil || !bytes.Equal(got[1:], pt) || got[0] != 'x' {
				t.Fatalf("%s/%d: Open: %v", name, n, err)
			}
			// Every single-bit flip must be caught.
			for i := 0; i < len(payload); i += 1 + len(payload)/13 {
				bad := bytes.Clone(payload)
				bad[i] ^= 0x80
				if _, err := p.Open(nil, bad, ad); !errors.Is(err, aead.ErrAuth) {
					t.Fatalf("%s/%d: flip at %d: err = %v", name, n, i, err)
				}
			}
			for _, cut := range []int{1, 16, len(payload)} {
				if cut > len(payload) {
					continue
				}
				if _, err := p.Open(nil, payload[:len(payload)-cut], ad); err == nil {
					t.Fatalf("%s/%d: truncated by %d: no error", name, n, cut)
				}
			}
		}
	}
}

func TestGCMBindsEtcdKey(t *testing.T) {
	g, _ := aead.NewGCM(make([]byte, 32))
	sealed, _ := g.Seal(nil, []byte("v"), []byte("/registry/secrets/a/b"))
	if _, err := g.Open(nil, sealed, []byte("/registry/secrets/a/c")); !errors.Is(err, aead.ErrAuth) {
		t.Fatalf("moved value opened: %v", err)
	}
}

func TestShortAndKeyErrors(t *testing.T) {
	for name, p := range primitives(t) {
		for n := 0; n < 40; n++ {
			_, err := p.Open(nil, make([]byte, n), nil)
			if err == nil {
				t.Fatalf("%s: %d zero bytes opened", name, n)
			}
			if !errors.Is(err, aead.ErrTooShort) && !errors.Is(err, aead.ErrAuth) {
				t.Fatalf("%s: %d bytes: %v", name, n, err)
			}
		}
	}
	for n := 0; n <= 64; n++ {
		_, err := aead.NewGCM(make([]byte, n))
		if (n == 16 || n == 24 || n == 32) != (err == nil) || (err != nil && !errors.Is(err, aead.ErrKeySize)) {
			t.Errorf("NewGCM(%d bytes): %v", n, err)
		}
		_, err = aead.NewSecretbox(make([]byte, n))
		if (n == 32) != (err == nil) || (err != nil && !errors.Is(err, aead.ErrKeySize)) {
			t.Errorf("NewSecretbox(%d bytes): %v", n, err)
		}
	}
}

func TestNonceFailure(t *testing.T) {
	g, _ := aead.NewGCMWithNonces(make([]byte, 16), failingNonces{})
	dst := []byte("keep")
	out, err := g.Seal(dst, []byte("v"), nil)
	if !errors.Is(err, aead.ErrNonce) || string(out) != "keep" {
		t.Fatalf("Seal = %q, %v", out, err)
	}
}

func TestAllocations(t *testing.T) {
	for name, p := range primitives(t) {
		pt := make([]byte, 4096)
		sealed, _ := p.Seal(nil, pt, nil)
		dst := make([]byte, 0, 8192)
		if n := testing.AllocsPerRun(20, func() { p.Open(dst, sealed, nil) }); n != 0 {
			t.Errorf("%s: Open with room: %v allocs", name, n)
		}
		if n := testing.AllocsPerRun(20, func() { p.Seal(dst, pt, nil) }); n != 0 {
			t.Errorf("%s: Seal with room: %v allocs", name, n)
		}
		out, _ := p.Open(nil, sealed, nil)
		if cap(out) > len(pt) {
			t.Errorf("%s: Open allocated %d for %d plaintext bytes", name, cap(out), len(pt))
		}
	}
}

func TestFailedOpenLeavesNoPlaintext(t *testing.T) {
	for name, p := range primitives(t) {
		pt := bytes.Repeat([]byte("S"), 300)
		sealed, _ := p.Seal(nil, pt, nil)
		sealed[len(sealed)/2] ^= 1
		dst := make([]byte, 0, 1024)
		if _, err := p.Open(dst, sealed, nil); err == nil {
			t.Fatalf("%s: tampered value opened", name)
		}
		if bytes.Contains(dst[:cap(dst)], []byte("SSSS")) {
			t.Fatalf("%s: plaintext left in dst", name)
		}
	}
}
