package aead_test

import (
	"fmt"
	"testing"

	"golang.org/x/crypto/nacl/secretbox"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/internal/impl"
)

// BenchmarkSecretbox compares every secretbox implementation of this CPU
// with bare x/crypto/nacl/secretbox (impl=x-crypto, the baseline), sealing
// and opening with dst room to spare. Compare with
//
//	benchstat -col /impl
func BenchmarkSecretbox(b *testing.B) {
	key := make([]byte, 32)
	var nonce [24]byte
	for _, op := range []string{"seal", "open"} {
		for _, size := range []int{256, 1 << 10, 4 << 10, 64 << 10} {
			msg := make([]byte, size)
			box := secretbox.Seal(nonce[:], msg, &nonce, (*[32]byte)(key))
			dst := make([]byte, 0, size+aead.SecretboxOverhead)
			sizeName := fmt.Sprintf("%dB", size)
			if size >= 1<<10 {
				sizeName = fmt.Sprintf("%dKiB", size>>10)
			}
			b.Run(fmt.Sprintf("op=%s/size=%s/impl=x-crypto", op, sizeName), func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					if op == "seal" {
						secretbox.Seal(dst[:0], msg, &nonce, (*[32]byte)(key))
					} else if _, ok := secretbox.Open(dst[:0], box[24:], &nonce, (*[32]byte)(key)); !ok {
						b.Fatal("open failed")
					}
				}
			})
			for _, name := range impl.List("secretbox") {
				b.Run(fmt.Sprintf("op=%s/size=%s/impl=%s", op, sizeName, name), func(b *testing.B) {
					impl.Select("secretbox", name)
					defer impl.Reset("secretbox")
					s, err := aead.NewSecretbox(key)
					if err != nil {
						b.Fatal(err)
					}
					aead.SetNonces(s, fixedNonces(nonce[:]))
					b.SetBytes(int64(size))
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
				})
			}
		}
	}
}
