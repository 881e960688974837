package aead_test

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/internal/impl"
)

// BenchmarkGCM compares, side by side for benchstat -col /impl:
//
//   - crypto-cipher: a bare cipher.NewGCM(aes.NewCipher(key)), the baseline;
//   - auto: aead.GCM as it runs in production (impl.Reset: the first
//     available implementation);
//   - each implementation of impl.List("gcm") forced on alone.
//
// The AD is a typical etcd key; aead.GCM uses a fixed nonce here so that
// the nonce source is not measured.
func BenchmarkGCM(b *testing.B) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	nonce := make([]byte, aead.GCMNonceSize)
	ad := []byte("/registry/secrets/kube-system/bootstrap-token-abcdef")
	sizes := []struct {
		name string
		n    int
	}{{"256B", 256}, {"1KiB", 1 << 10}, {"4KiB", 4 << 10}, {"64KiB", 64 << 10}}
	impls := append([]string{"crypto-cipher", "auto"}, impl.List("gcm")...)
	defer impl.Reset("gcm")
	for _, op := range []string{"seal", "open"} {
		for _, size := range sizes {
			pt := make([]byte, size.n)
			for _, name := range impls {
				b.Run(fmt.Sprintf("op=%s/size=%s/impl=%s", op, size.name, name), func(b *testing.B) {
					seal, open := gcmBenchFuncs(b, name, key, nonce, ad)
					payload := seal(nil, pt)
					dst := make([]byte, 0, len(payload))
					b.SetBytes(int64(size.n))
					b.ResetTimer()
					if op == "seal" {
						for b.Loop() {
							seal(dst, pt)
						}
						return
					}
					for b.Loop() {
						if _, err := open(dst, payload); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// gcmBenchFuncs returns seal and open closures over payloads laid out as
// nonce || ciphertext || tag for the named implementation.
func gcmBenchFuncs(b *testing.B, name string, key, nonce, ad []byte) (
	seal func(dst, pt []byte) []byte, open func(dst, payload []byte) ([]byte, error)) {
	if name == "crypto-cipher" {
		blk, _ := aes.NewCipher(key)
		a, _ := cipher.NewGCM(blk)
		seal = func(dst, pt []byte) []byte {
			return a.Seal(append(dst, nonce...), nonce, pt, ad)
		}
		open = func(dst, payload []byte) ([]byte, error) {
			return a.Open(dst, payload[:aead.GCMNonceSize], payload[aead.GCMNonceSize:], ad)
		}
		return seal, open
	}
	if name == "auto" {
		impl.Reset("gcm")
	} else if !impl.Select("gcm", name) {
		b.Fatalf("cannot select %s", name)
	}
	g, err := aead.NewGCMWithNonces(key, fixedNonces(nonce))
	if err != nil {
		b.Fatal(err)
	}
	seal = func(dst, pt []byte) []byte {
		out, err := g.Seal(dst, pt, ad)
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	open = func(dst, payload []byte) ([]byte, error) { return g.Open(dst, payload, ad) }
	return seal, open
}

// BenchmarkGCMSmall measures the short inputs (most Kubernetes secrets)
// where a size threshold between VAES-512 and crypto/cipher would matter;
// see gcm_dispatch.go.
func BenchmarkGCMSmall(b *testing.B) {
	key := make([]byte, 32)
	nonce := make([]byte, aead.GCMNonceSize)
	ad := []byte("/registry/secrets/kube-system/bootstrap-token-abcdef")
	defer impl.Reset("gcm")
	for _, n := range []int{0, 16, 64, 128, 192, 256} {
		pt := make([]byte, n)
		for _, name := range append([]string{"crypto-cipher", "auto"}, impl.List("gcm")...) {
			if name == impl.Portable {
				continue
			}
			b.Run(fmt.Sprintf("op=seal/size=%dB/impl=%s", n, name), func(b *testing.B) {
				seal, _ := gcmBenchFuncs(b, name, key, nonce, ad)
				dst := make([]byte, 0, n+aead.GCMOverhead)
				b.SetBytes(int64(n))
				for b.Loop() {
					seal(dst, pt)
				}
			})
		}
	}
}
