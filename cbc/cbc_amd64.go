//go:build !purego

package cbc

import (
	"github.com/atrest-dev/atrest/internal/cpu"
	"github.com/atrest-dev/atrest/internal/impl"
)

//go:generate sh -c "cd _asm && go run . -out ../cbc_amd64.s -stubs ../cbc_stubs_amd64.go -pkg cbc"

// The hardware paths, highest priority first. Each flag is also the
// detection result impl.Register records; tests flip them through impl.Select.
var (
	useVAES512 = cpu.X86.HasVAES && cpu.X86.HasAVX512 // decrypt 12 zmm × 4 blocks, batch of 16 or 32 lanes
	useVAES256 = cpu.X86.HasVAES && cpu.X86.HasAVX2   // decrypt 12 ymm × 2 blocks, batch of 16 lanes
	useAESNI   = cpu.X86.HasAES                       // decrypt 12 xmm blocks, batch of 8 lanes
)

func registerHW() {
	impl.Register("cbc", "VAES-512", &useVAES512)
	impl.Register("cbc", "VAES-256", &useVAES256)
	impl.Register("cbc", "AES-NI", &useAESNI)
}

// initHW expands key for the assembly paths when the CPU has AES-NI, whatever
// path is selected now, so tests can switch paths on an existing Cipher.
// len(key) is 16, 24 or 32.
func initHW(c *Cipher, key []byte) {
	if !cpu.X86.HasAES {
		return
	}
	c.hw.rounds = 6 + len(key)/4
	expandKeyAESNI(&key[0], c.hw.rounds, &c.hw.enc[0], &c.hw.dec[0])
}

// encryptHW runs the assembly CBC encryption if a hardware path is selected.
// Single-stream CBC encryption is one serial chain, so every hardware path
// uses the same AES-NI loop: wider registers do not shorten a chain.
func (c *Cipher) encryptHW(iv, buf []byte) bool {
	if !useVAES512 && !useVAES256 && !useAESNI {
		return false
	}
	if len(buf) > 0 {
		encryptCBCAESNI(&c.hw.enc[0], c.hw.rounds, &iv[0], &buf[0], len(buf))
	}
	return true
}

// decryptHW runs the widest selected assembly CBC decryption.
func (c *Cipher) decryptHW(iv, dst, src []byte) bool {
	if len(src) == 0 {
		return useVAES512 || useVAES256 || useAESNI
	}
	switch {
	case useVAES512:
		decryptCBCVAES512(&c.hw.dec[0], c.hw.rounds, &iv[0], &dst[0], &src[0], len(src))
	case useVAES256:
		decryptCBCVAES256(&c.hw.dec[0], c.hw.rounds, &iv[0], &dst[0], &src[0], len(src))
	case useAESNI:
		decryptCBCAESNI(&c.hw.dec[0], c.hw.rounds, &iv[0], &dst[0], &src[0], len(src))
	default:
		return false
	}
	return true
}

// batchLanesAvailable returns the lane count of the selected multi-lane
// encryption kernel for a batch of n values, or 0 if no hardware path is
// selected. VAES-512 takes 32 lanes only when there are more than 16 values:
// free lanes cost as much as busy ones.
func batchLanesAvailable(n int) int {
	switch {
	case useVAES512 && n > 16:
		return 32
	case useVAES512, useVAES256:
		return 16
	case useAESNI:
		return 8
	}
	return 0
}

// encryptBatch runs the selected multi-lane kernel with the lane count
// batchLanesAvailable returned.
func encryptBatch(lanes int, xk *byte, nr int, st *byte, nblocks int) {
	switch {
	case useVAES512 && lanes == 32:
		encryptBatchVAES512x32(xk, nr, st, nblocks)
	case useVAES512:
		encryptBatchVAES512(xk, nr, st, nblocks)
	case useVAES256:
		encryptBatchVAES256(xk, nr, st, nblocks)
	default:
		encryptBatchAESNI(xk, nr, st, nblocks)
	}
}
