//go:build !amd64 || purego

package cbc

func registerHW() {}

func initHW(c *Cipher, key []byte) {}

func (c *Cipher) encryptHW(iv, buf []byte) bool { return false }

func (c *Cipher) decryptHW(iv, dst, src []byte) bool { return false }

func batchLanesAvailable(n int) int { return 0 }

func encryptBatch(lanes int, xk *byte, nr int, st *byte, nblocks int) {
	panic("cbc: no multi-lane kernel")
}
