package ctaes_test

import (
	"testing"

	"github.com/atrest-dev/atrest/internal/ctaes"
)

func BenchmarkBlocks4(b *testing.B) {
	for _, ks := range []int{16, 32} {
		c, _ := ctaes.New(make([]byte, ks))
		buf := make([]byte, 64)
		b.Run("Encrypt/AES-"+itoa(8*ks), func(b *testing.B) {
			b.SetBytes(64)
			for b.Loop() {
				c.EncryptBlocks4(buf, buf)
			}
		})
		b.Run("Decrypt/AES-"+itoa(8*ks), func(b *testing.B) {
			b.SetBytes(64)
			for b.Loop() {
				c.DecryptBlocks4(buf, buf)
			}
		})
	}
}

func BenchmarkKeySchedule(b *testing.B) {
	for _, ks := range []int{16, 32} {
		key := make([]byte, ks)
		var c ctaes.Cipher
		b.Run("AES-"+itoa(8*ks), func(b *testing.B) {
			for b.Loop() {
				c.Init(key)
			}
		})
	}
}

func itoa(n int) string {
	switch n {
	case 128:
		return "128"
	case 192:
		return "192"
	}
	return "256"
}
