package cbc

import (
	"crypto/aes"
	"crypto/cipher"
	"sync"

	"github.com/atrest-dev/atrest/internal/cpu"
	"github.com/atrest-dev/atrest/internal/impl"
)

// The standard library's path is registered on every GOARCH, available
// where crypto/aes runs on the CPU's AES instructions (cpu.Stdlib.AES: amd64
// with AES-NI, arm64 with the AES extension, s390x with CPACF, ppc64x). There
// it is constant-time and it is what users compare with, so every CPU the
// dispatch table has no measured rows for takes it. Elsewhere crypto/aes
// uses lookup tables (variable time: ctcheck measures the leak in its key
// schedule), so atrest never calls it there and the generic path runs.
func init() { impl.Register("cbc", "stdlib", pathStdlib, cpu.Stdlib.AES) }

// stdlibCBC is crypto/cipher's CBC modes over crypto/aes: per block AES-NI or
// the arm64 AES instructions through crypto/aes, one KMC instruction per chain
// on s390x, POWER8 vector code on ppc64x.
//
// cipher.NewCBCEncrypter copies the key schedule into a new BlockMode on
// every call (about 500 bytes allocated); the pools keep BlockModes per
// Cipher and reset their IV instead, so Seal and Open stay free of
// allocations.
type stdlibCBC struct {
	block    cipher.Block
	enc, dec sync.Pool // of cbcMode
}

// cbcMode is the BlockMode crypto/cipher returns for a crypto/aes block,
// whose IV can be reset.
type cbcMode interface {
	cipher.BlockMode
	SetIV([]byte)
}

func (s *stdlibCBC) init(key []byte) error {
	if !cpu.Stdlib.AES {
		return nil
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	var iv [BlockSize]byte
	s.block = b
	s.enc.New = func() any { return cipher.NewCBCEncrypter(b, iv[:]).(cbcMode) }
	s.dec.New = func() any { return cipher.NewCBCDecrypter(b, iv[:]).(cbcMode) }
	return nil
}

// encrypt CBC-encrypts buf in place, a whole number of blocks.
func (s *stdlibCBC) encrypt(iv, buf []byte) {
	m := s.enc.Get().(cbcMode)
	m.SetIV(iv)
	m.CryptBlocks(buf, buf)
	s.enc.Put(m)
}

// decrypt CBC-decrypts src into dst, which do not overlap.
func (s *stdlibCBC) decrypt(iv, dst, src []byte) {
	m := s.dec.Get().(cbcMode)
	m.SetIV(iv)
	m.CryptBlocks(dst, src)
	s.dec.Put(m)
}
