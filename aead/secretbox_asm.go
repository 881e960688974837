//go:build amd64 && !purego

package aead

import (
	"crypto/subtle"
	"encoding/binary"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/salsa20/salsa"

	"github.com/atrest-dev/atrest/aead/internal/poly1305"
	"github.com/atrest-dev/atrest/internal/alias"
	"github.com/atrest-dev/atrest/internal/cpu"
	"github.com/atrest-dev/atrest/internal/impl"
)

//go:generate sh -c "cd _asm/secretbox && go run . -out ../../secretbox_amd64.s -stubs ../../secretbox_stubs_amd64.go -pkg aead"

// hasSecretboxAVX512: XSalsa20 sixteen blocks at a time in zmm registers and
// Poly1305 eight blocks at a time with AVX-512 IFMA can run.
var hasSecretboxAVX512 = cpu.X86.HasAVX512 && cpu.X86.HasAVX512IFMA

func init() {
	impl.Register("secretbox", "AVX512", boxPathAVX512, hasSecretboxAVX512)
	impl.Rows("secretbox", secretboxTable)
}

// secretboxTable is the dispatch of package secretbox on amd64: which path
// each CPU class takes for seal and open, from which plaintext length. A
// class with no row for an operation, and every CPU not in a class, takes
// the generic path, x/crypto's (internal/impl). Beside each row, the
// measurement that justifies it; the raw runs are in results/.
var secretboxTable = []impl.Row{
	// AMD EPYC 9005 (Zen 5, family 26 model 2). BenchmarkSecretbox, 8
	// interleaved rounds, CPU time per op, 2-core KVM VM
	// (results/hotpaths-amd-epyc-zen5-2026-11-28-benchstat.txt). AVX512 vs
	// generic (x/crypto): seal 16 B 380 vs 342 ns, 64 B 462 vs 550 ns,
	// 256 B -41%, 4 KiB -72%, 1 MiB -81%; open alike. auto vs bare x/crypto
	// (x-crypto): 64 B -14%, 256 B -36%, 4 KiB -72%, 1 MiB -82%. At 0 and
	// 16 B auto runs x/crypto's own code (the generic path; AVX512 is slower
	// there), so no row can do better: in separate processes, 24 rounds
	// (results/hotpaths-amd-epyc-zen5-2026-11-28-reruns.txt), open is level
	// with the bare call and seal +4% to +6% (15-20 ns); inside one process
	// with the bare call run last, Seal and the bare call do not differ
	// (340 vs 339 ns, p=0.63): the rest is where each benchmark's code sits.
	{CPU: cpu.AMDZen5, Op: "seal", Min: 0, Path: boxPathGeneric},
	{CPU: cpu.AMDZen5, Op: "seal", Min: 64, Path: boxPathAVX512},
	{CPU: cpu.AMDZen5, Op: "open", Min: 0, Path: boxPathGeneric},
	{CPU: cpu.AMDZen5, Op: "open", Min: 64, Path: boxPathAVX512},

	// Intel Xeon Emerald Rapids (family 6 model 207): only the runs of
	// commit 034a422 exist (results/intel-emr-model207-make-bench-034a422.txt,
	// `make bench`, count 10, 2-core KVM VM), where impl=atrest took AVX512
	// from 64 B. atrest vs impl=stdlib (x/crypto): encrypt 256 B 1094 vs
	// 1047 ns (p=0.17, not different), 1 KiB -34%, 4 KiB -66%, 64 KiB -77%,
	// 1 MiB -79%; decrypt 256 B 1010 vs 984 ns (p=0.052), 1 KiB -33%,
	// 4 KiB -65%, 64 KiB -77%, 1 MiB -79% (p=0.000). AVX512 from 1 KiB.
	{CPU: cpu.IntelEmeraldRapids, Op: "seal", Min: 0, Path: boxPathGeneric},
	{CPU: cpu.IntelEmeraldRapids, Op: "seal", Min: 1024, Path: boxPathAVX512},
	{CPU: cpu.IntelEmeraldRapids, Op: "open", Min: 0, Path: boxPathGeneric},
	{CPU: cpu.IntelEmeraldRapids, Op: "open", Min: 1024, Path: boxPathAVX512},
}

const (
	// polyMinIFMA is the shortest message the IFMA kernel takes, as the
	// key's powers cost about as much as eight scalar blocks.
	polyMinIFMA = 256
	// secretboxMaxAVX512 keeps Salsa20's 32-bit block counter, which the
	// kernel increments without carry, from wrapping (2^32 blocks = 256 GiB).
	secretboxMaxAVX512 = 1 << 37
)

// sealBox and openBox are the dispatch. They have
// x/crypto/nacl/secretbox's contract: sealBox appends tag || ciphertext to
// out; openBox appends the plaintext of box (tag || ciphertext) to out after
// checking the tag, and writes nothing when it does not match.
func (s *Secretbox) sealBox(out, plaintext []byte, nonce *[24]byte) []byte {
	if secretboxSealPlan.Pick(len(plaintext)) == boxPathAVX512 && uint64(len(plaintext)) < secretboxMaxAVX512 {
		return s.sealBoxAVX512(out, plaintext, nonce)
	}
	return s.sealBoxGeneric(out, plaintext, nonce)
}

func (s *Secretbox) openBox(out, box []byte, nonce *[24]byte) ([]byte, bool) {
	n := len(box) - secretbox.Overhead
	if secretboxOpenPlan.Pick(n) == boxPathAVX512 && uint64(n) < secretboxMaxAVX512 {
		return s.openBoxAVX512(out, box, nonce)
	}
	return s.openBoxGeneric(out, box, nonce)
}

func (s *Secretbox) sealBoxAVX512(out, plaintext []byte, nonce *[24]byte) []byte {
	ret, o := alias.SliceForAppend(out, len(plaintext)+secretbox.Overhead)
	if alias.AnyOverlap(o, plaintext) && &o[secretbox.Overhead] != &plaintext[0] {
		panic("aead: invalid buffer overlap")
	}
	var st [16]uint32
	var polyKey [32]byte
	xsalsaState(&st, &s.key, nonce)
	xsalsaXOR(o[secretbox.Overhead:], plaintext, &st, &polyKey)
	tag := poly1305Sum(o[secretbox.Overhead:], &polyKey)
	copy(o, tag[:])
	clear(st[:])
	clear(polyKey[:])
	return ret
}

func (s *Secretbox) openBoxAVX512(out, box []byte, nonce *[24]byte) ([]byte, bool) {
	if len(box) < secretbox.Overhead {
		return nil, false
	}
	var st [16]uint32
	var polyKey [32]byte
	xsalsaState(&st, &s.key, nonce)
	// Block 0's first 32 bytes are the Poly1305 key; derive it without
	// touching the ciphertext, and verify before writing any plaintext.
	var block [1024]byte
	salsa20XOR16(&block[0], &block[0], 1, &st)
	copy(polyKey[:], block[:32])
	ct := box[secretbox.Overhead:]
	tag := poly1305Sum(ct, &polyKey)
	clear(polyKey[:])
	if subtle.ConstantTimeCompare(tag[:], box[:secretbox.Overhead]) != 1 {
		clear(block[:])
		clear(st[:])
		return nil, false
	}
	ret, o := alias.SliceForAppend(out, len(ct))
	if alias.AnyOverlap(o, ct) && &o[0] != &ct[0] {
		panic("aead: invalid buffer overlap")
	}
	xsalsaXORFrom(o, ct, &st, &block)
	clear(st[:])
	return ret, true
}

// xsalsaState sets st to the Salsa20 input for XSalsa20 under key and nonce
// at block 0: the HSalsa20 subkey of key and nonce[:16], and nonce[16:].
func xsalsaState(st *[16]uint32, key *[32]byte, nonce *[24]byte) {
	var sub [32]byte
	salsa.HSalsa20(&sub, (*[16]byte)(nonce[:16]), key, &salsa.Sigma)
	c := &salsa.Sigma
	st[0] = binary.LittleEndian.Uint32(c[0:])
	st[5] = binary.LittleEndian.Uint32(c[4:])
	st[10] = binary.LittleEndian.Uint32(c[8:])
	st[15] = binary.LittleEndian.Uint32(c[12:])
	for i := 0; i < 4; i++ {
		st[1+i] = binary.LittleEndian.Uint32(sub[4*i:])
		st[11+i] = binary.LittleEndian.Uint32(sub[16+4*i:])
	}
	st[6] = binary.LittleEndian.Uint32(nonce[16:])
	st[7] = binary.LittleEndian.Uint32(nonce[20:])
	st[8], st[9] = 0, 0
	clear(sub[:])
}

// xsalsaXOR XORs src into dst with the keystream of st from byte 32 of block
// 0 on, and stores the first 32 bytes of block 0 in polyKey.
func xsalsaXOR(dst, src []byte, st *[16]uint32, polyKey *[32]byte) {
	var block [1024]byte
	salsa20XOR16(&block[0], &block[0], 1, st)
	copy(polyKey[:], block[:32])
	xsalsaXORFrom(dst, src, st, &block)
}

// xsalsaXORFrom is xsalsaXOR's tail: block holds the keystream of blocks
// 0..15 and st is at block 0. It clears block.
func xsalsaXORFrom(dst, src []byte, st *[16]uint32, block *[1024]byte) {
	n := min(len(src), len(block)-32)
	subtle.XORBytes(dst[:n], src[:n], block[32:32+n])
	dst, src = dst[n:], src[n:]
	st[8] = 16
	if full := len(src) / 1024; full > 0 {
		salsa20XOR16(&dst[0], &src[0], full, st)
		st[8] += uint32(16 * full)
		dst, src = dst[1024*full:], src[1024*full:]
	}
	if len(src) > 0 {
		clear(block[:])
		salsa20XOR16(&block[0], &block[0], 1, st)
		subtle.XORBytes(dst, src, block[:len(src)])
	}
	clear(block[:])
}

// polyLastPowers are the powers of r the lanes of the IFMA kernel take for
// the last chunk: lane L holds block k = 0, 4, 1, 5, 2, 6, 3, 7 of each
// 128-byte chunk, and block k of the last one takes r^(8-k).
var polyLastPowers = [8]int{8, 4, 7, 3, 6, 2, 5, 1}

// poly1305Sum returns the Poly1305 tag of m under key: whole 128-byte chunks
// through the IFMA kernel when m is long enough, the rest in radix-2^44 Go.
func poly1305Sum(m []byte, key *[32]byte) [16]byte {
	r := poly1305.KeyR(key)
	var h poly1305.Elem
	if chunks := len(m) / 128; len(m) >= polyMinIFMA {
		var pw [9]poly1305.Elem // r^0 .. r^8
		pw[0] = poly1305.Elem{1, 0, 0}
		for i := 1; i < len(pw); i++ {
			pw[i] = poly1305.Mul(pw[i-1], r)
		}
		var tbl [40]uint64
		var hv [24]uint64
		setPolyTable(&tbl, &pw, [8]int{8, 8, 8, 8, 8, 8, 8, 8})
		poly1305Blocks8(&hv, &m[0], chunks-1, &tbl)
		// The last chunk's block k takes r^(8-k), so that block i of the
		// message ends up times r^(n-i).
		setPolyTable(&tbl, &pw, polyLastPowers)
		poly1305Blocks8(&hv, &m[128*(chunks-1)], 1, &tbl)
		for l := 0; l < 8; l++ {
			h[0] += hv[l]
			h[1] += hv[8+l]
			h[2] += hv[16+l]
		}
		h = poly1305.Carry(h)
		m = m[128*chunks:]
		clear(pw[:])
		clear(tbl[:])
		clear(hv[:])
	}
	h.Blocks(r, m)
	return poly1305.Tag(h, key)
}

// setPolyTable lays out the multipliers poly1305Blocks8 takes: per lane L,
// with e = pw[powers[L]], e0, e1, e2, 20*e1, 20*e2.
func setPolyTable(tbl *[40]uint64, pw *[9]poly1305.Elem, powers [8]int) {
	for l, p := range powers {
		e := &pw[p]
		tbl[l] = e[0]
		tbl[8+l] = e[1]
		tbl[16+l] = e[2]
		tbl[24+l] = 20 * e[1]
		tbl[32+l] = 20 * e[2]
	}
}
