//go:build !amd64 || purego

package cbc

// Without atrest's assembly (other GOARCHes, or the purego tag) the dispatch
// is between the standard library's path, where crypto/aes runs on AES
// instructions, and the generic one; no CPU has table rows here, so the plans
// take the standard library's path at every length where it is available.

// asmKeys is empty: there is no assembly key schedule to expand.
type asmKeys struct{}

func (*asmKeys) init([]byte) {}

// encrypt and decrypt are the dispatch of single values. buf, dst and src
// are one or more whole blocks; dst and src do not overlap.
func (c *Cipher) encrypt(iv, buf []byte) {
	if encPlan.Pick(len(buf)) == pathStdlib {
		c.std.encrypt(iv, buf)
		return
	}
	c.gen.encrypt(iv, buf)
}

func (c *Cipher) decrypt(iv, dst, src []byte) {
	if decPlan.Pick(len(src)) == pathStdlib {
		c.std.decrypt(iv, dst, src)
		return
	}
	c.gen.decrypt(iv, dst, src)
}

// BatchSize returns how many values one SealBatch call seals best together:
// 1 here, where SealBatch seals one value after another.
func (c *Cipher) BatchSize() int { return 1 }

// batchKernel has no lanes here: SealBatch seals one value after another.
type batchKernel struct{ lanes int }

func pickBatch(n, total int) batchKernel { return batchKernel{} }

func (c *Cipher) encryptBatch(_ batchKernel, out, plaintexts [][]byte) {
	c.encryptEach(out, plaintexts)
}
