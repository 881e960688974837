package aead_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/nacl/secretbox"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/internal/impl"
)

// checkSecretboxImpls seals msg under key and nonce with every secretbox
// implementation this CPU has and compares with bare x/crypto; it opens the
// result, and checks that a flipped bit anywhere in the tag or ciphertext
// (at flip, taken modulo the payload) is refused with no plaintext written.
func checkSecretboxImpls(t *testing.T, key, nonce, msg []byte, flip int) {
	t.Helper()
	want := append(bytes.Clone(nonce), secretbox.Seal(nil, msg, (*[24]byte)(nonce), (*[32]byte)(key))...)
	impl.Each("secretbox", func(name string) {
		s, err := aead.NewSecretbox(key)
		if err != nil {
			t.Fatal(err)
		}
		aead.SetNonces(s, fixedNonces(nonce))
		got, err := s.Seal(nil, msg, nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: Seal(len %d) = %x, %v\nwant %x", name, len(msg), got, err, want)
		}
		pt, err := s.Open(nil, want, nil)
		if err != nil || !bytes.Equal(pt, msg) {
			t.Fatalf("%s: Open(len %d) = %x, %v", name, len(msg), pt, err)
		}
		bad := bytes.Clone(want)
		i := aead.SecretboxNonceSize + flip%(len(bad)-aead.SecretboxNonceSize)
		bad[i] ^= 1 << (flip % 8)
		dst := make([]byte, 3, 3+len(msg))
		copy(dst, "abc")
		out, err := s.Open(dst, bad, nil)
		if !errors.Is(err, aead.ErrAuth) || string(out) != "abc" {
			t.Fatalf("%s: tampered Open(len %d, byte %d) = %x, %v", name, len(msg), i, out, err)
		}
		if tail := dst[3:cap(dst)]; !bytes.Equal(tail, make([]byte, len(tail))) {
			t.Fatalf("%s: tampered Open(len %d) wrote into dst", name, len(msg))
		}
	})
}

// Every length from 0 to 4 KiB and a few longer ones, random keys and nonces.
func TestSecretboxImplsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	key, nonce := make([]byte, 32), make([]byte, 24)
	msg := make([]byte, 70000)
	for i := range msg {
		msg[i] = byte(rng.Uint32())
	}
	lengths := []int{65536, 65537, 69999}
	for n := 0; n <= 4096; n++ {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		for i := range nonce {
			nonce[i] = byte(rng.Uint32())
		}
		checkSecretboxImpls(t, key, nonce, msg[:n], int(rng.Uint32()>>1))
	}
}

func FuzzSecretboxImplsAgree(f *testing.F) {
	f.Add(make([]byte, 32), make([]byte, 24), []byte("hello"), 0)
	f.Add(bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 24), bytes.Repeat([]byte{0xff}, 1500), 77)
	f.Fuzz(func(t *testing.T, key, nonce, msg []byte, flip int) {
		if len(key) != 32 || len(nonce) != 24 {
			return
		}
		if flip < 0 {
			flip = -(flip + 1)
		}
		checkSecretboxImpls(t, key, nonce, msg, flip)
	})
}
