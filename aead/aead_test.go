package aead_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/internal/cryptotest"
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
	var vs []cryptotest.Vector
	for _, v := range gcmVectors {
		vs = append(vs, cryptotest.Vector{
			Name: v.name, Key: unhex(v.key), Nonce: unhex(v.iv), Plaintext: unhex(v.pt), AD: unhex(v.ad),
			Payload: unhex(v.iv + v.ct + v.tag),
		})
	}
	cryptotest.TestVectors(t, gcmSpec, vs)
}

// The NaCl distribution's secretbox test (tests/secretbox.c), as x/crypto and
// libsodium also use it: the box printed there is tag || ciphertext.
func TestSecretboxNaClVector(t *testing.T) {
	nonce := unhex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37")
	box := unhex("f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5")
	cryptotest.TestVectors(t, secretboxSpec, []cryptotest.Vector{{
		Name:      "NaCl tests/secretbox.c",
		Key:       unhex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389"),
		Nonce:     nonce,
		Plaintext: unhex("be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705"),
		AD:        []byte("ignored"),
		Payload:   append(bytes.Clone(nonce), box...),
	}})
}

var gcmSpec = cryptotest.Spec{
	Pkg:       "gcm",
	KeySizes:  []int{16, 24, 32},
	NonceSize: aead.GCMNonceSize,
	New: func(key, nonce []byte) (cryptotest.Sealer, error) {
		return aead.NewGCMWithNonces(key, fixedNonces(nonce))
	},
	OpenOverhead:  aead.GCMOverhead,
	MinPayload:    aead.GCMOverhead,
	ErrTooShort:   aead.ErrTooShort,
	ErrAuth:       aead.ErrAuth,
	Authenticated: true,
	BindsAD:       true,
}

var secretboxSpec = cryptotest.Spec{
	Pkg:       "secretbox",
	KeySizes:  []int{aead.SecretboxKeySize},
	NonceSize: aead.SecretboxNonceSize,
	New: func(key, nonce []byte) (cryptotest.Sealer, error) {
		s, err := aead.NewSecretbox(key)
		if err != nil {
			return nil, err
		}
		aead.SetNonces(s, fixedNonces(bytes.Clone(nonce)))
		return s, nil
	},
	OpenOverhead:  aead.SecretboxOverhead,
	MinPayload:    aead.SecretboxOverhead,
	ErrTooShort:   aead.ErrTooShort,
	ErrAuth:       aead.ErrAuth,
	Authenticated: true,
}

// The Seal/Open contract over every implementation of each.
func TestGCMContract(t *testing.T)       { cryptotest.TestSealer(t, gcmSpec) }
func TestSecretboxContract(t *testing.T) { cryptotest.TestSealer(t, secretboxSpec) }

func TestKeyErrors(t *testing.T) {
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
	s, _ := aead.NewSecretbox(make([]byte, 32))
	aead.SetNonces(s, failingNonces{})
	for name, p := range map[string]cryptotest.Sealer{"gcm": g, "secretbox": s} {
		dst := []byte("keep")
		out, err := p.Seal(dst, []byte("v"), nil)
		if !errors.Is(err, aead.ErrNonce) || string(out) != "keep" {
			t.Fatalf("%s: Seal = %q, %v", name, out, err)
		}
	}
}

// TestRandomNonces checks that the default nonce source is crypto/rand.
func TestRandomNonces(t *testing.T) {
	g, _ := aead.NewGCM(make([]byte, 16))
	s, _ := aead.NewSecretbox(make([]byte, 32))
	for name, p := range map[string]cryptotest.Sealer{"gcm": g, "secretbox": s} {
		a, _ := p.Seal(nil, []byte("same"), nil)
		b, _ := p.Seal(nil, []byte("same"), nil)
		if bytes.Equal(a[:12], b[:12]) {
			t.Errorf("%s: two Seals used the same nonce", name)
		}
	}
}
