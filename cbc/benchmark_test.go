package cbc_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/internal/cryptotest"
)

// stdlibImpl names the baseline in benchmark names: the standard library's
// cipher.NewCBCEncrypter/NewCBCDecrypter over aes.NewCipher, doing the same
// work as Seal and Open (random IV, copy and pad; decrypt and strip padding).
const stdlibImpl = "crypto-cipher"

// BenchmarkCBC measures, side by side for benchstat -col /impl, the
// baseline (impl=crypto-cipher), automatic dispatch (impl=auto) and each
// implementation this CPU has forced on alone, at every size of the ladder
// (cryptotest.Sizes, 0 B to 1 MiB), with a 32-byte key (AES-256, the usual
// aescbc key):
//
//	BenchmarkCBC/op=encrypt/size=64KiB/impl=AES-NI      Seal of 64 KiB
//	BenchmarkCBC/op=decrypt/size=64KiB/impl=VAES-512    Open of 64 KiB
//	BenchmarkCBC/op=sealbatch16/size=64KiB/impl=...     SealBatch of 16 values of 4 KiB
//	BenchmarkCBC/op=sealbatch64/size=64KiB/impl=...     SealBatch of 64 values of 1 KiB
//
// (sealbatchN with crypto-cipher: N sequential encryptions). Compare with
//
//	go test ./cbc -run '^$' -bench 'BenchmarkCBC/.*/size=64KiB' -count=10 > x.txt
//	benchstat -col /impl x.txt
func BenchmarkCBC(b *testing.B) {
	key := make([]byte, 32)
	rand.Read(key)
	c, _ := cbc.New(key)
	block, _ := aes.NewCipher(key)
	names := append([]string{stdlibImpl}, cryptotest.Impls("cbc")...)
	for _, op := range []string{"encrypt", "decrypt", "sealbatch16", "sealbatch64"} {
		for _, size := range cryptotest.Sizes {
			for _, name := range names {
				b.Run(fmt.Sprintf("op=%s/size=%s/impl=%s", op, size.Name, name), func(b *testing.B) {
					if name != stdlibImpl {
						cryptotest.Use(b, "cbc", name)
					}
					benchOp(b, op, size.N, name == stdlibImpl, c, block)
				})
			}
		}
	}
}

func benchOp(b *testing.B, op string, size int, stdlib bool, c *cbc.Cipher, block cipher.Block) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	switch op {
	case "encrypt":
		pt := make([]byte, size)
		dst := make([]byte, 0, cbc.SealedLen(size))
		done := cryptotest.CPUTime(b)
		for b.Loop() {
			if stdlib {
				stdSeal(block, dst, pt)
			} else if _, err := c.Seal(dst, pt, nil); err != nil {
				b.Fatal(err)
			}
		}
		done()
	case "decrypt":
		sealed, _ := c.Seal(nil, make([]byte, size), nil)
		dst := make([]byte, 0, len(sealed))
		done := cryptotest.CPUTime(b)
		for b.Loop() {
			if stdlib {
				if stdOpen(block, dst, sealed) == nil {
					b.Fatal("bad padding")
				}
			} else if _, err := c.Open(dst, sealed, nil); err != nil {
				b.Fatal(err)
			}
		}
		done()
	case "sealbatch16", "sealbatch64":
		values := 16
		if op == "sealbatch64" {
			values = 64
		}
		pts := make([][]byte, values)
		dsts := make([][]byte, values)
		for i := range pts {
			pts[i] = make([]byte, size/values)
			dsts[i] = make([]byte, 0, cbc.SealedLen(size/values))
		}
		done := cryptotest.CPUTime(b)
		for b.Loop() {
			if stdlib {
				for i := range pts {
					stdSeal(block, dsts[i], pts[i])
				}
			} else if _, err := c.SealBatch(dsts, pts); err != nil {
				b.Fatal(err)
			}
		}
		done()
	}
}

// stdSeal is Seal written the straightforward way with crypto/cipher.
func stdSeal(block cipher.Block, dst, pt []byte) []byte {
	out := dst[:cbc.SealedLen(len(pt))]
	iv, body := out[:16], out[16:]
	rand.Read(iv)
	copy(body, pt)
	for i := len(pt); i < len(body); i++ {
		body[i] = byte(len(body) - len(pt))
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(body, body)
	return out
}

// stdOpen is Open written the straightforward way (not constant-time).
func stdOpen(block cipher.Block, dst, payload []byte) []byte {
	out := dst[:len(payload)-16]
	cipher.NewCBCDecrypter(block, payload[:16]).CryptBlocks(out, payload[16:])
	p := int(out[len(out)-1])
	if p == 0 || p > len(out) {
		return nil
	}
	return out[:len(out)-p]
}
