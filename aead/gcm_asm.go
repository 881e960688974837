//go:build amd64 && !purego

package aead

import (
	"crypto/subtle"
	"errors"

	"github.com/atrest-dev/atrest/internal/aesni"
	"github.com/atrest-dev/atrest/internal/alias"
	"github.com/atrest-dev/atrest/internal/cpu"
	"github.com/atrest-dev/atrest/internal/impl"
)

//go:generate sh -c "cd _asm/gcm && go run . -out ../../gcm_amd64.s -stubs ../../gcm_stubs_amd64.go -pkg aead"

// The assembly paths this CPU can run: the VAES/VPCLMULQDQ GCM of
// gcm_amd64.s on zmm registers (BZHI builds its byte masks), and on ymm
// registers with AVX2 only, for CPUs with VAES but no AVX-512 (AMD Zen 3,
// Intel Alder Lake and later, Sierra Forest); BMI2's SHLX/SHRX align the
// bytes of a partial block there. Both share gcmAsm: the round keys and
// gcmInitVAES's key powers.
var (
	hasVAES512 = cpu.X86.HasVAES && cpu.X86.HasVPCLMULQDQ && cpu.X86.HasAVX512 && cpu.X86.HasBMI2
	hasVAES256 = cpu.X86.HasVAES && cpu.X86.HasVPCLMULQDQ && cpu.X86.HasAVX2 && cpu.X86.HasBMI2
)

func init() {
	impl.Register("gcm", "VAES-512", gcmPathVAES512, hasVAES512)
	impl.Register("gcm", "VAES-256", gcmPathVAES256, hasVAES256)
	impl.Rows("gcm", gcmTable)
}

// gcmTable is the dispatch of package gcm on amd64: which path each CPU
// class takes for seal and open, from which plaintext length. A class with
// no row for an operation, and every CPU not in a class, takes the standard
// library's path (internal/impl). Beside each row, the measurement that
// justifies it; the raw runs are in results/.
var gcmTable = []impl.Row{
	// AMD EPYC 9005 (Zen 5, family 26 model 2): VAES-512 at every length,
	// VAES-256 where AVX-512 is off (GODEBUG=atrestavx512=0). CPU time per
	// op against crypto/cipher, 8 interleaved rounds
	// (results/gcm-amd-epyc-zen5-2026-11-28-benchstat.txt, after the VMOVQ
	// fix): VAES-512 seal 0 B -36%, 16 B -39%, 256 B -48%, 4 KiB -65%,
	// 64 KiB -70%; open 0 B -34%, 256 B -58%, 4 KiB -66%, 64 KiB -71%
	// (p≤0.001). VAES-256 seal 0 B -31%, 16 B -42%, 256 B -43%, 4 KiB -51%,
	// 64 KiB -50%; open 0 B -36%, 256 B -44%, 4 KiB -49%, 64 KiB -56%
	// (p≤0.001). VAES-256 against VAES-512: no difference to 64 B, slower
	// from 256 B (+30% to +67%). The restructured dispatch, re-measured
	// (results/hotpaths-amd-epyc-zen5-2026-11-28-benchstat.txt, auto vs
	// crypto-cipher, 8 rounds): seal 0 B -29%, 256 B -46%, 1 KiB -62%,
	// 4 KiB -67%, 1 MiB -70%; open 0 B -28%, 256 B -60%, 4 KiB -71%,
	// 1 MiB -74% (p=0.000).
	{CPU: cpu.AMDZen5, Op: "seal", Min: 0, Path: gcmPathVAES512},
	{CPU: cpu.AMDZen5, Op: "seal", Min: 0, Path: gcmPathVAES256},
	{CPU: cpu.AMDZen5, Op: "open", Min: 0, Path: gcmPathVAES512},
	{CPU: cpu.AMDZen5, Op: "open", Min: 0, Path: gcmPathVAES256},

	// Intel Xeon Emerald Rapids (family 6 model 207): only the runs of
	// commit 034a422 exist, before the VMOVQ fix to the VAES-512 kernels
	// that removes a ~160 ns per-call penalty on Intel
	// (results/intel-emr-model207-aead-gcm-034a422.txt: BenchmarkGCMSmall
	// and BenchmarkGCM, count 5, 2-core KVM VM). VAES-512 is taken only
	// where it was ahead with the penalty. VAES-512 vs crypto/cipher:
	// seal 0 B 211 vs 54 ns, 256 B 326 vs 194 ns, 1 KiB 351 vs 392 ns
	// (p=0.056, not different), 4 KiB 602 vs 981 ns (-39%, p=0.008),
	// 64 KiB -63%; open 256 B 317 vs 171 ns, 1 KiB 394 vs 397 ns (p=0.29),
	// 4 KiB 709 vs 1284 ns (-45%, p=0.008), 64 KiB -64%.
	{CPU: cpu.IntelEmeraldRapids, Op: "seal", Min: 0, Path: gcmPathStdlib},
	{CPU: cpu.IntelEmeraldRapids, Op: "seal", Min: 4096, Path: gcmPathVAES512},
	{CPU: cpu.IntelEmeraldRapids, Op: "open", Min: 0, Path: gcmPathStdlib},
	{CPU: cpu.IntelEmeraldRapids, Op: "open", Min: 4096, Path: gcmPathVAES512},
}

// gcmMaxPlaintext is GCM's limit with a 96-bit nonce: 2^32-2 blocks.
const gcmMaxPlaintext = (1<<32 - 2) * 16

var errVAESOpen = errors.New("aead: message authentication failed")

// gcmAsm is the key-dependent state of the assembly GCM, set where the CPU
// can run it: the AES round keys (internal/aesni's schedule) and the hash
// key powers H^16..H^1 in the form gcm_amd64.s multiplies by, with 64 zero
// bytes after them for the masked tail.
type gcmAsm struct {
	rk   [240]byte
	nr   int
	htab [320]byte
}

// init expands key (16, 24 or 32 bytes) for the assembly GCM when this CPU
// can run it, whatever path is selected now.
func (h *gcmAsm) init(key []byte) {
	if !hasVAES512 && !hasVAES256 {
		return
	}
	var ks aesni.Schedule
	ks.Expand(key)
	h.rk, h.nr = ks.Enc, ks.Rounds
	clear(ks.Enc[:])
	clear(ks.Dec[:])
	gcmInitVAES(&h.rk, h.nr, &h.htab)
}

// seal and open are the dispatch. They have crypto/cipher.AEAD's contract
// with a 12-byte nonce and a 16-byte tag; out does not overlap the inputs.
func (g *GCM) seal(out, nonce, plaintext, ad []byte) []byte {
	switch p := gcmSealPlan.Pick(len(plaintext)); p {
	case gcmPathVAES512, gcmPathVAES256:
		return g.asm.seal(p, out, nonce, plaintext, ad)
	case gcmPathStdlib:
		return g.std.Seal(out, nonce, plaintext, ad)
	}
	return g.gen.seal(out, nonce, plaintext, ad)
}

func (g *GCM) open(out, nonce, ciphertext, ad []byte) ([]byte, error) {
	switch p := gcmOpenPlan.Pick(len(ciphertext) - GCMTagSize); p {
	case gcmPathVAES512, gcmPathVAES256:
		return g.asm.open(p, out, nonce, ciphertext, ad)
	case gcmPathStdlib:
		return g.std.Open(out, nonce, ciphertext, ad)
	}
	return g.gen.open(out, nonce, ciphertext, ad)
}

// seal and open run the VAES kernel of path p (gcmPathVAES512 or
// gcmPathVAES256).
func (h *gcmAsm) seal(p impl.Path, out, nonce, plaintext, ad []byte) []byte {
	if uint64(len(plaintext)) > gcmMaxPlaintext {
		panic("aead: message too large for GCM")
	}
	ret, o := alias.SliceForAppend(out, len(plaintext)+GCMTagSize)
	if alias.AnyOverlap(o, plaintext) && &o[0] != &plaintext[0] {
		panic("aead: invalid buffer overlap")
	}
	var j0, tag [16]byte
	copy(j0[:], nonce)
	j0[15] = 1
	if p == gcmPathVAES512 {
		gcmSealVAES512(&h.rk, h.nr, &h.htab, &j0, o, plaintext, ad, &tag)
	} else {
		gcmSealVAES256(&h.rk, h.nr, &h.htab, &j0, o, plaintext, ad, &tag)
	}
	copy(o[len(plaintext):], tag[:])
	return ret
}

func (h *gcmAsm) open(p impl.Path, out, nonce, ciphertext, ad []byte) ([]byte, error) {
	if len(ciphertext) < GCMTagSize || uint64(len(ciphertext)) > gcmMaxPlaintext+GCMTagSize {
		return nil, errVAESOpen
	}
	tag := ciphertext[len(ciphertext)-GCMTagSize:]
	ciphertext = ciphertext[:len(ciphertext)-GCMTagSize]
	ret, o := alias.SliceForAppend(out, len(ciphertext))
	if alias.AnyOverlap(o, ciphertext) && &o[0] != &ciphertext[0] {
		panic("aead: invalid buffer overlap")
	}
	var j0, want [16]byte
	copy(j0[:], nonce)
	j0[15] = 1
	if p == gcmPathVAES512 {
		gcmOpenVAES512(&h.rk, h.nr, &h.htab, &j0, o, ciphertext, ad, &want)
	} else {
		gcmOpenVAES256(&h.rk, h.nr, &h.htab, &j0, o, ciphertext, ad, &want)
	}
	if subtle.ConstantTimeCompare(want[:], tag) != 1 {
		clear(o)
		return nil, errVAESOpen
	}
	return ret, nil
}
