package nonce_test

import (
	"crypto/rand"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/aead/nonce"
)

type strategy struct {
	name string
	src  func(b *testing.B) aead.NonceSource
}

func counter(o nonce.Options) func(b *testing.B) aead.NonceSource {
	return func(b *testing.B) aead.NonceSource {
		c, err := nonce.NewCounter(o)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
}

var strategies = []strategy{
	{"random", func(*testing.B) aead.NonceSource { return aead.RandomNonces }},
	{"atrest", counter(nonce.Options{})},
	{"atrest-r32", counter(nonce.Options{RandomBits: 32})},
}

// BenchmarkNonce measures one 12-byte nonce per strategy; compare with
// benchstat -col /strategy.
func BenchmarkNonce(b *testing.B) {
	for _, s := range strategies {
		b.Run("strategy="+s.name, func(b *testing.B) {
			src := s.src(b)
			var n [12]byte
			b.ReportAllocs()
			for b.Loop() {
				if err := src.FillNonce(n[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNonceParallel is BenchmarkNonce from GOMAXPROCS goroutines
// sharing one source (contention on the counter).
func BenchmarkNonceParallel(b *testing.B) {
	for _, s := range strategies {
		b.Run("strategy="+s.name, func(b *testing.B) {
			src := s.src(b)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var n [12]byte
				for pb.Next() {
					if err := src.FillNonce(n[:]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkSeal is aesgcm Seal with each nonce strategy, AES-256.
func BenchmarkSeal(b *testing.B) {
	key := make([]byte, 32)
	rand.Read(key)
	ad := []byte("/registry/secrets/default/s1")
	for _, size := range []int{256, 4096} {
		for _, s := range strategies {
			b.Run("size="+itoa(size)+"/strategy="+s.name, func(b *testing.B) {
				g, err := aead.NewGCMWithNonces(key, s.src(b))
				if err != nil {
					b.Fatal(err)
				}
				pt := make([]byte, size)
				out := make([]byte, 0, g.SealedLen(size))
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := g.Seal(out[:0], pt, ad); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
