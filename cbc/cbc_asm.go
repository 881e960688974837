//go:build amd64 && !purego

package cbc

import (
	"unsafe"

	"github.com/atrest-dev/atrest/internal/aesni"
	"github.com/atrest-dev/atrest/internal/cpu"
	"github.com/atrest-dev/atrest/internal/impl"
)

//go:generate sh -c "cd _asm && go run . -out ../cbc_amd64.s -stubs ../cbc_stubs_amd64.go -pkg cbc"

// The assembly paths this CPU can run.
var (
	hasVAES512 = cpu.X86.HasVAES && cpu.X86.HasAVX512
	hasVAES256 = cpu.X86.HasVAES && cpu.X86.HasAVX2
	hasAESNI   = cpu.X86.HasAES
)

func init() {
	impl.Register("cbc", "VAES-512", pathVAES512, hasVAES512)
	impl.Register("cbc", "VAES-256", pathVAES256, hasVAES256)
	impl.Register("cbc", "AES-NI", pathAESNI, hasAESNI)
	impl.Rows("cbc", cbcTable)
}

// cbcTable is the dispatch of package cbc on amd64: which path each CPU
// class takes for each operation, from which length (encrypt and decrypt:
// bytes of CBC data, the padded plaintext; sealbatch: bytes of plaintext in
// the batch).
// A class with no row for an operation, and every CPU not in a class, takes
// the standard library's path (internal/impl); for sealbatch that means one
// value after another through the encrypt plan. Beside each row, the
// measurement that justifies it; the raw runs are in results/.
var cbcTable = []impl.Row{
	// AMD EPYC 9005 (Zen 5, family 26 model 2). BenchmarkCBC, every path at
	// every size of the ladder, 8 interleaved rounds, CPU time per op, 2-core
	// KVM VM (results/hotpaths-amd-epyc-zen5-2026-11-28-benchstat.txt).
	//
	// encrypt is serial in CBC: every assembly path runs the AES-NI loop.
	// auto vs crypto-cipher: 0 B -83%, 16 B -79%, 256 B -61%, 1 KiB -50%,
	// 4 KiB -43%, 64 KiB -29%, 1 MiB -37% (p≤0.001).
	{CPU: cpu.AMDZen5, Op: "encrypt", Min: 0, Path: pathAESNI},
	// decrypt: VAES-512 fastest from 64 B (64 KiB: VAES-512 2.5 µs, VAES-256
	// 4.6 µs, AES-NI 8.8 µs, stdlib 41.6 µs); below 64 B all assembly paths
	// are within 5% (0 B 43-45 ns, stdlib 61 ns). auto vs crypto-cipher:
	// 0 B -87%, 256 B -33%, 4 KiB -86%, 64 KiB -94%, 1 MiB -95% (p≤0.002).
	// With AVX-512 off (GODEBUG=atrestavx512=0), VAES-256, ahead of stdlib
	// at every size (0 B 43 vs 61 ns, 4 KiB 609 vs 2842 ns, 64 KiB 4.6 vs
	// 41.6 µs).
	{CPU: cpu.AMDZen5, Op: "decrypt", Min: 0, Path: pathVAES512},
	{CPU: cpu.AMDZen5, Op: "decrypt", Min: 0, Path: pathVAES256},
	// sealbatch: the lane kernels are within noise of each other below
	// 4 KiB; VAES-512 is ahead from 16 KiB (64 KiB in 16 values: 7.3 µs,
	// VAES-256 8.1 µs, AES-NI 11.4 µs). At 1 MiB, 16 or 32 lanes of values
	// from memory lose to the 8 AES-NI lanes (16 values: VAES-512 254 µs,
	// VAES-256 246 µs, AES-NI 164 µs; 64 values: 261, 167, 171 µs; a second
	// run, count 10, agreed:
	// results/hotpaths-amd-epyc-zen5-2026-11-28-reruns.txt). No rung lies
	// between 64 KiB and 1 MiB.
	// Without AVX-512, VAES-256 (0 B 1.48 vs stdlib 1.88 µs, 64 KiB 8.1 vs
	// 96.8 µs).
	{CPU: cpu.AMDZen5, Op: "sealbatch", Min: 0, Path: pathVAES512},
	{CPU: cpu.AMDZen5, Op: "sealbatch", Min: 0, Path: pathVAES256},
	{CPU: cpu.AMDZen5, Op: "sealbatch", Min: 1 << 20, Path: pathAESNI},

	// Intel Xeon Emerald Rapids (family 6 model 207). Only the runs of
	// commit 034a422 exist (results/intel-emr-model207-make-bench-034a422.txt,
	// `make bench`, count 10, 2-core KVM VM): aescbc cells of 256 B to 1 MiB
	// and BenchmarkPaths at 4 KiB. Below 256 B there is no data, and no data
	// at all for SealBatch: those take the standard library's path.
	//
	// encrypt, impl=atrest (the AES-NI loop) vs impl=stdlib (crypto/cipher):
	// 256 B 351 vs 668 ns (-47%), 1 KiB -35%, 4 KiB -33%, 64 KiB -27%,
	// 1 MiB -26%, all p=0.000 n=10.
	{CPU: cpu.IntelEmeraldRapids, Op: "encrypt", Min: 0, Path: pathStdlib},
	{CPU: cpu.IntelEmeraldRapids, Op: "encrypt", Min: 256, Path: pathAESNI},
	// decrypt, impl=atrest (VAES-512) vs impl=stdlib: 256 B 460 vs 526 ns
	// (-13%, p=0.043), 1 KiB -52%, 4 KiB -77%, 64 KiB -88%, 1 MiB -89%
	// (p=0.000). BenchmarkPaths at 4 KiB: VAES-512 754 ns, VAES-256 774 ns
	// (p=0.19, not different), AES-NI 1124 ns, stdlib 3860 ns.
	{CPU: cpu.IntelEmeraldRapids, Op: "decrypt", Min: 0, Path: pathStdlib},
	{CPU: cpu.IntelEmeraldRapids, Op: "decrypt", Min: 256, Path: pathVAES512},
}

// asmKeys is the key schedule of the assembly paths, expanded by
// internal/aesni when the CPU has AES-NI, whatever path is selected now.
type asmKeys struct {
	aesni.Schedule
}

func (k *asmKeys) init(key []byte) {
	if hasAESNI {
		k.Expand(key)
	}
}

// encrypt and decrypt are the dispatch of single values. buf, dst and src
// are one or more whole blocks; dst and src do not overlap.
func (c *Cipher) encrypt(iv, buf []byte) {
	switch encPlan.Pick(len(buf)) {
	case pathAESNI, pathVAES256, pathVAES512:
		encryptCBCAESNI(&c.asm.Enc[0], c.asm.Rounds, &iv[0], &buf[0], len(buf))
	case pathStdlib:
		c.std.encrypt(iv, buf)
	default:
		c.gen.encrypt(iv, buf)
	}
}

func (c *Cipher) decrypt(iv, dst, src []byte) {
	switch decPlan.Pick(len(src)) {
	case pathVAES512:
		decryptCBCVAES512(&c.asm.Dec[0], c.asm.Rounds, &iv[0], &dst[0], &src[0], len(src))
	case pathVAES256:
		decryptCBCVAES256(&c.asm.Dec[0], c.asm.Rounds, &iv[0], &dst[0], &src[0], len(src))
	case pathAESNI:
		decryptCBCAESNI(&c.asm.Dec[0], c.asm.Rounds, &iv[0], &dst[0], &src[0], len(src))
	case pathStdlib:
		c.std.decrypt(iv, dst, src)
	default:
		c.gen.decrypt(iv, dst, src)
	}
}

// batchKernel is the multi-lane kernel SealBatch runs (by its path and lane
// count); lanes == 0 means one value after another.
type batchKernel struct {
	lanes int
	path  impl.Path
}

// run runs the kernel for nblocks blocks per lane. (A switch, not a func
// value: the kernels' arguments must not escape.)
func (k batchKernel) run(xk *byte, nr int, st *byte, nblocks int) {
	switch {
	case k.path == pathVAES512 && k.lanes == 32:
		encryptBatchVAES512x32(xk, nr, st, nblocks)
	case k.path == pathVAES512:
		encryptBatchVAES512(xk, nr, st, nblocks)
	case k.path == pathVAES256:
		encryptBatchVAES256(xk, nr, st, nblocks)
	default:
		encryptBatchAESNI(xk, nr, st, nblocks)
	}
}

// pickBatch is the dispatch of SealBatch for a batch of n values of total
// bytes of plaintext. VAES-512 takes 32 lanes only when there are more than
// 16 values: free lanes cost as much as busy ones.
func pickBatch(n, total int) batchKernel {
	switch p := batchPlan.Pick(total); p {
	case pathVAES512:
		if n > 16 {
			return batchKernel{32, p}
		}
		return batchKernel{16, p}
	case pathVAES256:
		return batchKernel{16, p}
	case pathAESNI:
		return batchKernel{8, p}
	}
	return batchKernel{}
}

func (c *Cipher) encryptBatch(k batchKernel, out, plaintexts [][]byte) {
	if k.lanes == 0 {
		c.encryptEach(out, plaintexts)
		return
	}
	c.encryptLanes(k, out, plaintexts)
}

// maxLanes is the widest multi-lane kernel (VAES-512: 32 lanes).
const maxLanes = 32

// BatchSize returns how many values one SealBatch call seals best together:
// the widest lane count. Callers that collect values to seal gain nothing
// from larger batches.
func (c *Cipher) BatchSize() int { return maxLanes }

// batchLanes is the multi-lane kernels' argument; the generator in _asm
// hard-codes this layout (32 source pointers, 32 destination pointers, then
// 32 chaining values).
type batchLanes struct {
	src, dst [maxLanes]*byte
	iv       [maxLanes][BlockSize]byte
}

// encryptLanes CBC-encrypts the payloads that SealBatch prepared, each
// out[i]'s last SealedLen(len(plaintexts[i])) bytes: IV || body, where the
// body's first fullBlocks bytes are still to be read from plaintexts[i] and
// the rest (tail and padding) is in place.
//
// Each round the free lanes take the next values, lanes still free copy a
// live lane (the kernels load all lanes before they store any, so two lanes
// may encrypt the same blocks to the same bytes), and the kernel runs for as
// many blocks as the shortest live lane has left in its current segment
// (plaintext in place, or the payload's own tail).
func (c *Cipher) encryptLanes(k batchKernel, out, plaintexts [][]byte) {
	lanes := k.lanes
	var st batchLanes
	var job [maxLanes]int // value index, or -1 for a free lane
	var off [maxLanes]int // offset in the body of the next block to encrypt
	for l := range job {
		job[l] = -1
	}
	payload := func(i int) []byte { return out[i][len(out[i])-SealedLen(len(plaintexts[i])):] }
	next := 0
	for {
		live, step := -1, 0
		for l := 0; l < lanes; l++ {
			if job[l] < 0 && next < len(out) {
				job[l], off[l] = next, 0
				copy(st.iv[l][:], payload(next)[:BlockSize])
				next++
			}
			if job[l] < 0 {
				continue
			}
			pt, o := plaintexts[job[l]], payload(job[l])
			body := o[BlockSize:]
			full, left := fullBlocks(lanes, pt, o), 0
			if off[l] < full {
				st.src[l], left = &pt[off[l]], full-off[l]
			} else {
				st.src[l], left = &body[off[l]], len(body)-off[l]
			}
			st.dst[l] = &body[off[l]]
			if live < 0 || left/BlockSize < step {
				step = left / BlockSize
			}
			live = l
		}
		if live < 0 {
			break
		}
		for l := 0; l < lanes; l++ {
			if job[l] < 0 {
				st.src[l], st.dst[l], st.iv[l] = st.src[live], st.dst[live], st.iv[live]
			}
		}
		k.run(&c.asm.Enc[0], c.asm.Rounds, (*byte)(unsafe.Pointer(&st)), step)
		for l := 0; l < lanes; l++ {
			if job[l] < 0 {
				continue
			}
			off[l] += step * BlockSize
			if off[l] == len(payload(job[l]))-BlockSize {
				job[l] = -1
			}
		}
	}
	clear(st.iv[:])
}
