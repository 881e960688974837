package aead_test

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"

	"golang.org/x/crypto/nacl/secretbox"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/internal/cryptotest"
)

// The baselines in benchmark names: a bare cipher.NewGCM(aes.NewCipher(key))
// and bare golang.org/x/crypto/nacl/secretbox, what kube-apiserver runs.
const (
	gcmBaseline       = "crypto-cipher"
	secretboxBaseline = "x-crypto"
)

// etcdKey is the AD of the GCM benchmarks, a typical etcd key.
var etcdKey = []byte("/registry/secrets/kube-system/bootstrap-token-abcdef")

// BenchmarkGCM compares, side by side for benchstat -col /impl, at every
// size of the ladder (cryptotest.Sizes, 0 B to 1 MiB):
//
//   - crypto-cipher: the baseline;
//   - auto: aead.GCM as it runs in production (the dispatch table);
//   - each implementation this CPU has, forced on alone.
//
// aead.GCM uses a fixed nonce here so that the nonce source is not measured.
//
//	go test ./aead -run '^$' -bench 'BenchmarkGCM$' -count 6 > x.txt
//	benchstat -col /impl -row /op,/size x.txt
func BenchmarkGCM(b *testing.B) { benchGCM(b, cryptotest.Sizes) }

// BenchmarkGCMSmall is BenchmarkGCM for the ladder's sizes up to 256 B, most
// Kubernetes Secrets, where per-call costs decide between the paths.
func BenchmarkGCMSmall(b *testing.B) { benchGCM(b, cryptotest.SizesUpTo(256)) }

func benchGCM(b *testing.B, sizes []cryptotest.Size) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	nonce := make([]byte, aead.GCMNonceSize)
	for _, op := range []string{"seal", "open"} {
		for _, size := range sizes {
			pt := make([]byte, size.N)
			for _, name := range append([]string{gcmBaseline}, cryptotest.Impls("gcm")...) {
				b.Run(fmt.Sprintf("op=%s/size=%s/impl=%s", op, size.Name, name), func(b *testing.B) {
					seal, open := gcmBenchFuncs(b, name, key, nonce)
					payload := seal(nil, pt)
					dst := make([]byte, 0, len(payload))
					b.SetBytes(int64(size.N))
					b.ReportAllocs()
					if op == "seal" {
						done := cryptotest.CPUTime(b)
						for b.Loop() {
							seal(dst, pt)
						}
						done()
						return
					}
					done := cryptotest.CPUTime(b)
					for b.Loop() {
						if _, err := open(dst, payload); err != nil {
							b.Fatal(err)
						}
					}
					done()
				})
			}
		}
	}
}

// gcmBenchFuncs returns seal and open closures over payloads laid out as
// nonce || ciphertext || tag for the named implementation.
func gcmBenchFuncs(b *testing.B, name string, key, nonce []byte) (
	seal func(dst, pt []byte) []byte, open func(dst, payload []byte) ([]byte, error)) {
	if name == gcmBaseline {
		blk, _ := aes.NewCipher(key)
		a, _ := cipher.NewGCM(blk)
		seal = func(dst, pt []byte) []byte {
			return a.Seal(append(dst, nonce...), nonce, pt, etcdKey)
		}
		open = func(dst, payload []byte) ([]byte, error) {
			return a.Open(dst, payload[:aead.GCMNonceSize], payload[aead.GCMNonceSize:], etcdKey)
		}
		return seal, open
	}
	cryptotest.Use(b, "gcm", name)
	g, err := aead.NewGCMWithNonces(key, fixedNonces(nonce))
	if err != nil {
		b.Fatal(err)
	}
	seal = func(dst, pt []byte) []byte {
		out, err := g.Seal(dst, pt, etcdKey)
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	open = func(dst, payload []byte) ([]byte, error) { return g.Open(dst, payload, etcdKey) }
	return seal, open
}

// BenchmarkSecretbox compares, side by side for benchstat -col /impl, bare
// x/crypto/nacl/secretbox writing nonce || box (impl=x-crypto, the
// baseline, as kube-apiserver's transformer calls it), automatic dispatch
// (impl=auto) and every secretbox implementation of this CPU forced on
// alone, sealing and opening with dst room to spare, at every size of the
// ladder (cryptotest.Sizes).
func BenchmarkSecretbox(b *testing.B) {
	key := make([]byte, 32)
	var nonce [24]byte
	for _, op := range []string{"seal", "open"} {
		for _, size := range cryptotest.Sizes {
			msg := make([]byte, size.N)
			box := secretbox.Seal(nonce[:], msg, &nonce, (*[32]byte)(key))
			dst := make([]byte, 0, size.N+aead.SecretboxOverhead)
			for _, name := range append([]string{secretboxBaseline}, cryptotest.Impls("secretbox")...) {
				b.Run(fmt.Sprintf("op=%s/size=%s/impl=%s", op, size.Name, name), func(b *testing.B) {
					b.SetBytes(int64(size.N))
					b.ReportAllocs()
					if name == secretboxBaseline {
						done := cryptotest.CPUTime(b)
						for b.Loop() {
							// The same work as Seal and Open, as kube-apiserver
							// does it: the nonce goes before the box, and comes
							// out of the payload into an array.
							if op == "seal" {
								secretbox.Seal(append(dst[:0], nonce[:]...), msg, &nonce, (*[32]byte)(key))
							} else if _, ok := secretbox.Open(dst[:0], box[24:], (*[24]byte)(box[:24]), (*[32]byte)(key)); !ok {
								b.Fatal("open failed")
							}
						}
						done()
						return
					}
					cryptotest.Use(b, "secretbox", name)
					s, err := aead.NewSecretbox(key)
					if err != nil {
						b.Fatal(err)
					}
					aead.SetNonces(s, fixedNonces(nonce[:]))
					done := cryptotest.CPUTime(b)
					for b.Loop() {
						var err error
						if op == "seal" {
							_, err = s.Seal(dst[:0], msg, nil)
						} else {
							_, err = s.Open(dst[:0], box, nil)
						}
						if err != nil {
							b.Fatal(err)
						}
					}
					done()
				})
			}
		}
	}
}
