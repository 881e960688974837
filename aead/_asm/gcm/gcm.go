// Command gcm generates aead's VAES/VPCLMULQDQ AES-GCM with avo: an AVX-512
// kernel on zmm registers (this file) and an AVX2 one on ymm (vaes256.go).
//
// Run it through go generate in the parent package:
//
//	go generate ./aead
//
// # Design
//
// CTR runs four counter blocks per zmm register and four registers (16
// blocks, 256 bytes) per loop iteration, the 15 round keys broadcast into
// zmm16-zmm30 for the whole call. GHASH works on byte-reflected blocks with
// the hash key premultiplied by x^-1, the representation of the Linux
// kernel's aes-gcm-avx10 and BoringSSL's VAES GCM: a product is four
// carry-less multiplications (schoolbook) and a reduction is two more
// multiplications by the constant x^63 + x^62 + x^57. A 16-block group is
// multiplied by the powers H^16..H^1 (four per zmm, precomputed at key
// setup) and summed unreduced, so it needs one reduction. The last 0..255
// bytes take the same code with byte-masked loads and stores, multiplied by
// the last m powers H^m..H^1 so that no partial-block bookkeeping is left to
// Go. The additional data is hashed the same way.
//
// All branches depend on lengths and the key size only; there are no
// table lookups. Key expansion uses AESENCLAST for SubWord (see
// aesSubWord), so the whole path is constant-time in the key and data.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

var (
	bswapMask, gfpoly, gfpolyCarry, ctrInit, ctrInc Mem
)

// Register plan (physical, so the 32 zmm registers are used exactly).
var (
	A    = []VecPhysical{Z0, Z1, Z2, Z3} // AES states / output blocks
	LO   = Z4
	MI   = Z5
	HI   = Z6
	C    = Z7 // a block of GHASH input
	T0   = Z8
	T1   = Z14
	T2   = Z15
	CTR  = Z9  // little-endian counters, one per 128-bit lane
	BSW  = Z10 // byte-reflection mask, in every lane
	GFP  = Z11 // GHASH reduction constant, in every lane
	INC  = Z12 // 4 in the low dword of every lane
	ACC  = Z13 // GHASH accumulator in lane 0, the rest zero
	PW   = Z31 // four key powers
	KEYS = []VecPhysical{Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30}
)

var labels int

func label(s string) string {
	labels++
	return fmt.Sprintf("%s_%d", s, labels)
}

func consts() {
	bswapMask = GLOBL("gcm_bswap", RODATA|NOPTR)
	DATA(0, U64(0x08090a0b0c0d0e0f))
	DATA(8, U64(0x0001020304050607))

	gfpoly = GLOBL("gcm_gfpoly", RODATA|NOPTR)
	DATA(0, U64(1))
	DATA(8, U64(0xc200000000000000))

	gfpolyCarry = GLOBL("gcm_gfpoly_carry", RODATA|NOPTR)
	DATA(0, U64(1))
	DATA(8, U64(0xc200000000000001))

	ctrInit = GLOBL("gcm_ctr_init", RODATA|NOPTR)
	for k := 0; k < 4; k++ {
		DATA(16*k, U64(uint64(k+1)))
		DATA(16*k+8, U64(0))
	}

	ctrInc = GLOBL("gcm_ctr_inc", RODATA|NOPTR)
	DATA(0, U64(4))
	DATA(8, U64(0))
}

func loadKeys(rk Register) {
	for i, k := range KEYS {
		VBROADCASTI32X4(Mem{Base: rk, Disp: 16 * i}, k)
	}
}

type width func(VecPhysical) Register

func zw(v VecPhysical) Register { return v.AsZ() }
func xw(v VecPhysical) Register { return v.AsX() }

// aesRounds encrypts the states in place with the round keys in KEYS; nr
// holds 10, 12 or 14. The instructions of steps, independent work such as
// hashing other blocks, are spread between rounds 1 to 9 so that the AES
// and carry-less multiply units work at the same time.
func aesRounds(st []VecPhysical, nr Register, w width, steps []func()) {
	for _, s := range st {
		VPXORD(w(KEYS[0]), w(s), w(s))
	}
	per := (len(steps) + 8) / 9
	for r := 1; r <= 9; r++ {
		for _, s := range st {
			VAESENC(w(KEYS[r]), w(s), w(s))
		}
		for i := 0; i < per && len(steps) > 0; i++ {
			steps[0]()
			steps = steps[1:]
		}
	}
	for _, f := range steps {
		f()
	}
	l10, l12, done := label("aes_last10"), label("aes_last12"), label("aes_done")
	CMPQ(nr, Imm(12))
	JB(LabelRef(l10))
	for r := 10; r <= 11; r++ {
		for _, s := range st {
			VAESENC(w(KEYS[r]), w(s), w(s))
		}
	}
	JE(LabelRef(l12))
	for r := 12; r <= 13; r++ {
		for _, s := range st {
			VAESENC(w(KEYS[r]), w(s), w(s))
		}
	}
	for _, s := range st {
		VAESENCLAST(w(KEYS[14]), w(s), w(s))
	}
	JMP(LabelRef(done))
	Label(l12)
	for _, s := range st {
		VAESENCLAST(w(KEYS[12]), w(s), w(s))
	}
	JMP(LabelRef(done))
	Label(l10)
	for _, s := range st {
		VAESENCLAST(w(KEYS[10]), w(s), w(s))
	}
	Label(done)
}

// ghashAcc multiplies the four byte-reflected blocks in c by the four key
// powers at p and adds the unreduced products into LO, MI, HI (initialising
// them when first).
func ghashAcc(first bool, c VecPhysical, p Mem) {
	VMOVDQU64(p, PW)
	if first {
		VPCLMULQDQ(Imm(0x00), PW, c, LO)
		VPCLMULQDQ(Imm(0x01), PW, c, MI)
		VPCLMULQDQ(Imm(0x10), PW, c, T0)
		VPCLMULQDQ(Imm(0x11), PW, c, HI)
		VPXORD(T0, MI, MI)
		return
	}
	VPCLMULQDQ(Imm(0x00), PW, c, T0)
	VPCLMULQDQ(Imm(0x01), PW, c, T1)
	VPCLMULQDQ(Imm(0x10), PW, c, T2)
	VPXORD(T0, LO, LO)
	VPTERNLOGD(Imm(0x96), T1, T2, MI)
	VPCLMULQDQ(Imm(0x11), PW, c, T0)
	VPXORD(T0, HI, HI)
}

// ghashReduce reduces LO, MI, HI lane by lane, sums the four lanes and
// leaves the result in ACC (lane 0, upper lanes zero).
func ghashReduce() {
	VPCLMULQDQ(Imm(0x01), LO, GFP, T0)
	VPSHUFD(Imm(0x4e), LO, LO)
	VPTERNLOGD(Imm(0x96), T0, LO, MI)
	VPCLMULQDQ(Imm(0x01), MI, GFP, T0)
	VPSHUFD(Imm(0x4e), MI, MI)
	VPTERNLOGD(Imm(0x96), T0, MI, HI)
	VEXTRACTI64X4(Imm(1), HI, T0.AsY())
	VPXORD(T0.AsY(), HI.AsY(), T0.AsY())
	VEXTRACTI32X4(Imm(1), T0.AsY(), T1.AsX())
	VPXORD(T1.AsX(), T0.AsX(), ACC.AsX())
}

// ghashMulX sets dst = a*b for single blocks (xmm), a being a key power.
// dst may be a or b. With avx512 it uses VPTERNLOGD for the three-way XORs
// (and may use registers X16-X31); without, only VEX encodings.
func ghashMulX(avx512 bool, a, b, dst, t0, t1, t2, gfp Register) {
	xor3 := func(x, y, acc Register) { // acc ^= x ^ y
		if avx512 {
			VPTERNLOGD(Imm(0x96), x, y, acc)
			return
		}
		VPXOR(x, acc, acc)
		VPXOR(y, acc, acc)
	}
	VPCLMULQDQ(Imm(0x00), a, b, t0)
	VPCLMULQDQ(Imm(0x01), a, b, t1)
	VPCLMULQDQ(Imm(0x10), a, b, t2)
	VPXOR(t2, t1, t1)
	VPCLMULQDQ(Imm(0x01), t0, gfp, t2)
	VPSHUFD(Imm(0x4e), t0, t0)
	xor3(t2, t0, t1)
	VPCLMULQDQ(Imm(0x11), a, b, dst)
	VPCLMULQDQ(Imm(0x01), t1, gfp, t0)
	VPSHUFD(Imm(0x4e), t1, t1)
	xor3(t0, t1, dst)
}

// aesBlockMem encrypts the block in x (xmm) with the nr (10, 12 or 14)
// round keys at rk, read from memory: VEX encodings only.
func aesBlockMem(x, rk, nr Register) {
	VPXOR(Mem{Base: rk}, x, x)
	for r := 1; r <= 9; r++ {
		VAESENC(Mem{Base: rk, Disp: 16 * r}, x, x)
	}
	l10, l12, done := label("aesx_last10"), label("aesx_last12"), label("aesx_done")
	CMPQ(nr, Imm(12))
	JB(LabelRef(l10))
	VAESENC(Mem{Base: rk, Disp: 160}, x, x)
	VAESENC(Mem{Base: rk, Disp: 176}, x, x)
	JE(LabelRef(l12))
	VAESENC(Mem{Base: rk, Disp: 192}, x, x)
	VAESENC(Mem{Base: rk, Disp: 208}, x, x)
	VAESENCLAST(Mem{Base: rk, Disp: 224}, x, x)
	JMP(LabelRef(done))
	Label(l12)
	VAESENCLAST(Mem{Base: rk, Disp: 192}, x, x)
	JMP(LabelRef(done))
	Label(l10)
	VAESENCLAST(Mem{Base: rk, Disp: 160}, x, x)
	Label(done)
}

// ghashSteps returns, as separate steps for aesRounds, the hashing of the
// 16 blocks at p+disp into ACC with the powers H^16..H^1 at htab.
func ghashSteps(p Register, disp int, htab Register) []func() {
	var steps []func()
	for j := 0; j < 4; j++ {
		m := Mem{Base: p, Disp: disp + 64*j}
		pw := Mem{Base: htab, Disp: 64 * j}
		steps = append(steps, func() {
			VMOVDQU64(m, C)
			VPSHUFB(BSW, C, C)
			if j == 0 {
				VPXORD(ACC, C, C)
			}
			VMOVDQU64(pw, PW)
		})
		if j == 0 {
			steps = append(steps,
				func() { VPCLMULQDQ(Imm(0x00), PW, C, LO); VPCLMULQDQ(Imm(0x01), PW, C, MI) },
				func() { VPCLMULQDQ(Imm(0x10), PW, C, T0); VPCLMULQDQ(Imm(0x11), PW, C, HI) },
				func() { VPXORD(T0, MI, MI) },
			)
			continue
		}
		steps = append(steps,
			func() { VPCLMULQDQ(Imm(0x00), PW, C, T0); VPCLMULQDQ(Imm(0x01), PW, C, T1) },
			func() { VPCLMULQDQ(Imm(0x10), PW, C, T2); VPXORD(T0, LO, LO) },
			func() { VPTERNLOGD(Imm(0x96), T1, T2, MI); VPCLMULQDQ(Imm(0x11), PW, C, T0) },
			func() { VPXORD(T0, HI, HI) },
		)
	}
	steps = append(steps,
		func() { VPCLMULQDQ(Imm(0x01), LO, GFP, T0); VPSHUFD(Imm(0x4e), LO, LO) },
		func() { VPTERNLOGD(Imm(0x96), T0, LO, MI) },
		func() { VPCLMULQDQ(Imm(0x01), MI, GFP, T0); VPSHUFD(Imm(0x4e), MI, MI) },
		func() { VPTERNLOGD(Imm(0x96), T0, MI, HI) },
		func() {
			VEXTRACTI64X4(Imm(1), HI, T0.AsY())
			VPXORD(T0.AsY(), HI.AsY(), T0.AsY())
		},
		func() {
			VEXTRACTI32X4(Imm(1), T0.AsY(), T1.AsX())
			VPXORD(T1.AsX(), T0.AsX(), ACC.AsX())
		},
	)
	return steps
}

// xorStore XORs the four vectors A with src into dst.
func xorStore(src, dst Register) {
	for j := 0; j < 4; j++ {
		VPXORD(Mem{Base: src, Disp: 64 * j}, A[j], A[j])
		VMOVDQU64(A[j], Mem{Base: dst, Disp: 64 * j})
	}
}

// tailMask sets K1 to the low n bits (n in 1..64) of an all-ones mask.
func tailMask(n, tmp Register) {
	MOVQ(I64(-1), tmp)
	BZHIQ(n, tmp, tmp)
	KMOVQ(tmp, K1)
}

// ghashBuffer hashes n bytes at p into ACC, the last partial block
// zero-padded. It clobbers p, n, AX, BX, DX and K1.
func ghashBuffer(p, n, htab Register) {
	loop, tail, done := label("gh_loop"), label("gh_tail"), label("gh_done")
	Label(loop)
	CMPQ(n, U32(256))
	JB(LabelRef(tail))
	for j := 0; j < 4; j++ {
		VMOVDQU64(Mem{Base: p, Disp: 64 * j}, C)
		VPSHUFB(BSW, C, C)
		if j == 0 {
			VPXORD(ACC, C, C)
		}
		ghashAcc(j == 0, C, Mem{Base: htab, Disp: 64 * j})
	}
	ghashReduce()
	ADDQ(U32(256), p)
	SUBQ(U32(256), n)
	JMP(LabelRef(loop))

	Label(tail)
	TESTQ(n, n)
	JZ(LabelRef(done))
	hp := RDX
	tailPowers(n, htab, hp)
	cases := tailCases(n)
	for nv := 1; nv <= 4; nv++ {
		Label(cases[nv-1])
		for j := 0; j < nv; j++ {
			m := Mem{Base: p, Disp: 64 * j}
			if j < nv-1 {
				VMOVDQU64(m, C)
			} else {
				MOVQ(n, RAX)
				SUBQ(Imm(uint64(64*j)), RAX)
				tailMask(RAX, RBX)
				VMOVDQU8_Z(m, K1, C)
			}
			VPSHUFB(BSW, C, C)
			if j == 0 {
				VPXORD(ACC, C, C)
			}
			ghashAcc(j == 0, C, Mem{Base: hp, Disp: 64 * j})
		}
		ghashReduce()
		JMP(LabelRef(done))
	}
	Label(done)
}

// tailPowers sets hp to the powers H^m..H^1 for the m = ceil(n/16) blocks of
// a tail of n (1..255) bytes.
func tailPowers(n, htab, hp Register) {
	MOVQ(n, RAX)
	ADDQ(Imm(15), RAX)
	SHRQ(Imm(4), RAX)
	SHLQ(Imm(4), RAX)
	LEAQ(Mem{Base: htab, Disp: 256}, hp)
	SUBQ(RAX, hp)
}

// tailCases jumps to one of four labels by the number of zmm vectors,
// ceil(n/64), that a tail of n (1..255) bytes spans, and returns them.
func tailCases(n Register) []string {
	var cases []string
	for nv := 1; nv <= 4; nv++ {
		cases = append(cases, label(fmt.Sprintf("tail%d", nv)))
	}
	MOVQ(n, RAX)
	ADDQ(Imm(63), RAX)
	SHRQ(Imm(6), RAX)
	CMPQ(RAX, Imm(1))
	JE(LabelRef(cases[0]))
	CMPQ(RAX, Imm(2))
	JE(LabelRef(cases[1]))
	CMPQ(RAX, Imm(3))
	JE(LabelRef(cases[2]))
	JMP(LabelRef(cases[3]))
	return cases
}

// cryptBlocks encrypts or decrypts the vectors A[:nv] (counter blocks
// already encrypted) with src into dst and hashes the ciphertext. When
// masked, the last vector holds only n-64*(nv-1) bytes.
func cryptVectors(open bool, nv int, masked bool, src, dst, n, hp Register) {
	for j := 0; j < nv; j++ {
		ms, md := Mem{Base: src, Disp: 64 * j}, Mem{Base: dst, Disp: 64 * j}
		last := masked && j == nv-1
		if last {
			MOVQ(n, RAX)
			SUBQ(Imm(uint64(64*j)), RAX)
			tailMask(RAX, RBX)
			VMOVDQU8_Z(ms, K1, C)
		} else {
			VMOVDQU64(ms, C)
		}
		VPXORD(C, A[j], A[j])
		if last {
			VMOVDQU8(A[j], K1, md)
		} else {
			VMOVDQU64(A[j], md)
		}
		if !open {
			if last {
				VMOVDQU8_Z(A[j], K1, C)
				VPSHUFB(BSW, C, C)
			} else {
				VPSHUFB(BSW, A[j], C)
			}
		} else {
			VPSHUFB(BSW, C, C)
		}
		if j == 0 {
			VPXORD(ACC, C, C)
		}
		ghashAcc(j == 0, C, Mem{Base: hp, Disp: 64 * j})
	}
	ghashReduce()
}

func counters(nv int) {
	for j := 0; j < nv; j++ {
		VPSHUFB(BSW, CTR, A[j])
		VPADDD(INC, CTR, CTR)
	}
}

// cryptText opens the assembly function name that seals (open false) or
// opens one GCM message, with the signature and contract every GCM kernel
// shares; the lines of needs, if any, continue the doc comment's last line.
func cryptText(name string, open bool, needs ...string) {
	verb := "encrypts"
	if open {
		verb = "decrypts"
	}
	TEXT(name, NOSPLIT, "func(rk *[240]byte, nr int, htab *[320]byte, j0 *[16]byte, dst, src, ad []byte, tag *[16]byte)")
	Pragma("noescape")
	last := "nr must be 10, 12 or 14; len(src) must be below 2^36-32."
	if len(needs) > 0 {
		last += " " + needs[0]
		needs = needs[1:]
	}
	Doc(append([]string{
		name + " " + verb + " src into dst (len(dst) >= len(src)) with AES-GCM under the",
		"round keys rk (nr rounds) and key powers htab, counter block j0, and",
		"additional data ad, and writes the GCM tag of the ciphertext to tag.",
		last,
	}, needs...)...)
}

func crypt(name string, open bool) {
	cryptText(name, open)
	rk, nr, htab := RDI, R8, R9
	Load(Param("rk"), rk)
	Load(Param("nr"), nr)
	Load(Param("htab"), htab)
	loadKeys(rk)
	VBROADCASTI32X4(bswapMask, BSW)
	VBROADCASTI32X4(gfpoly, GFP)
	VBROADCASTI32X4(ctrInc, INC)
	VPXORD(ACC.AsX(), ACC.AsX(), ACC.AsX())

	// E(J0), parked in *tag until the hash is done: it overlaps the rest.
	j0, tag := R10, R11
	Load(Param("j0"), j0)
	Load(Param("tag"), tag)
	VMOVDQU(Mem{Base: j0}, X0)
	aesRounds([]VecPhysical{Z0}, nr, xw, nil)
	VMOVDQU(X0, Mem{Base: tag})

	// Additional data.
	adp, adn := RSI, RCX
	Load(Param("ad").Base(), adp)
	Load(Param("ad").Len(), adn)
	ghashBuffer(adp, adn, htab)

	// Counters J0+1..J0+4.
	VBROADCASTI32X4(Mem{Base: j0}, CTR)
	VPSHUFB(BSW, CTR, CTR)
	VPADDD(ctrInit, CTR, CTR)

	src, dst, n := RSI, RDI, RCX
	Load(Param("src").Base(), src)
	Load(Param("dst").Base(), dst)
	Load(Param("src").Len(), n)

	// 16 blocks per iteration. Open hashes the ciphertext it reads while
	// the counters are encrypted; seal hashes the 16 blocks it wrote in the
	// previous iteration, and the last ones after the loop.
	loop, tail, done := label("loop"), label("tail"), label("crypt_done")
	advance := func() {
		ADDQ(U32(256), src)
		ADDQ(U32(256), dst)
		SUBQ(U32(256), n)
	}
	if open {
		Label(loop)
		CMPQ(n, U32(256))
		JB(LabelRef(tail))
		counters(4)
		aesRounds(A, nr, zw, ghashSteps(src, 0, htab))
		xorStore(src, dst)
		advance()
		JMP(LabelRef(loop))
	} else {
		flush := label("flush")
		CMPQ(n, U32(256))
		JB(LabelRef(tail))
		counters(4)
		aesRounds(A, nr, zw, nil)
		xorStore(src, dst)
		advance()
		Label(loop)
		CMPQ(n, U32(256))
		JB(LabelRef(flush))
		counters(4)
		aesRounds(A, nr, zw, ghashSteps(dst, -256, htab))
		xorStore(src, dst)
		advance()
		JMP(LabelRef(loop))
		Label(flush)
		for _, f := range ghashSteps(dst, -256, htab) {
			f()
		}
	}

	Label(tail)
	TESTQ(n, n)
	JZ(LabelRef(done))
	hp := RDX
	tailPowers(n, htab, hp)
	cases := tailCases(n)
	for nv := 1; nv <= 4; nv++ {
		Label(cases[nv-1])
		counters(nv)
		aesRounds(A[:nv], nr, zw, nil)
		cryptVectors(open, nv, true, src, dst, n, hp)
		JMP(LabelRef(done))
	}
	Label(done)

	// Lengths block, byte-reflected: ciphertext bits low, AD bits high.
	Load(Param("src").Len(), RAX)
	SHLQ(Imm(3), RAX)
	Load(Param("ad").Len(), RBX)
	SHLQ(Imm(3), RBX)
	VMOVQ(RAX, X0) // VEX: a legacy-SSE MOVQ here costs an SSE/AVX transition on Intel
	VPINSRQ(Imm(1), RBX, X0, X0)
	VPXORD(X0, ACC.AsX(), ACC.AsX())
	VMOVDQU(Mem{Base: htab, Disp: 240}, X1)
	ghashMulX(true, X1, ACC.AsX(), ACC.AsX(), X2, X3, X4, GFP.AsX())
	VPSHUFB(BSW.AsX(), ACC.AsX(), ACC.AsX())

	// Tag = E(J0) ^ GHASH.
	VPXORD(Mem{Base: tag}, ACC.AsX(), ACC.AsX())
	VMOVDQU(ACC.AsX(), Mem{Base: tag})
	VZEROUPPER()
	RET()
}

func initKey() {
	TEXT("gcmInitVAES", NOSPLIT, "func(rk *[240]byte, nr int, htab *[320]byte)")
	Pragma("noescape")
	Doc(
		"gcmInitVAES computes the hash key H = AES(rk, 0) and stores H^16..H^1,",
		"byte-reflected and multiplied by x^-1, in htab[0:256]. It uses xmm",
		"registers and VEX encodings only (AVX, AES, PCLMULQDQ), so the",
		"VAES-512 and VAES-256 kernels share it.",
	)
	rk, nr, htab := RDI, R8, R9
	Load(Param("rk"), rk)
	Load(Param("nr"), nr)
	Load(Param("htab"), htab)
	VPXOR(X0, X0, X0)
	aesBlockMem(X0, rk, nr)
	VPSHUFB(bswapMask, X0, X0)
	// Multiply by x^-1 in GCM's bit order: a left shift by one of the
	// 128-bit value, and an XOR with the polynomial if a bit was carried
	// out; the shift is two 64-bit shifts with the carry between them
	// added into the constant.
	VPSHUFD(Imm(0xd3), X0, X1)
	VPSRAD(Imm(31), X1, X1)
	VPADDQ(X0, X0, X0)
	VPAND(gfpolyCarry, X1, X1)
	VPXOR(X1, X0, X0)
	VMOVDQU(X0, Mem{Base: htab, Disp: 240})
	VMOVDQU(gfpoly, X3)
	VMOVDQA(X0, X2)
	for i := 2; i <= 16; i++ {
		ghashMulX(false, X0, X2, X2, X4, X5, X6, X3)
		VMOVDQU(X2, Mem{Base: htab, Disp: 256 - 16*i})
	}
	RET()
}

func subWord() {
	TEXT("aesSubWord", NOSPLIT, "func(w uint32) uint32")
	Doc(
		"aesSubWord applies the AES S-box to each byte of w, with AESENCLAST.",
		"It needs AVX: like every function here it uses only VEX encodings, so",
		"that no SSE/AVX transition can happen next to the AVX-512 kernels.",
	)
	Load(Param("w"), EAX)
	VMOVQ(RAX, X0)
	VPSHUFD(Imm(0), X0, X0)
	VPXOR(X1, X1, X1)
	VAESENCLAST(X1, X0, X0)
	VMOVQ(X0, RAX)
	Store(EAX, ReturnIndex(0))
	RET()
}

func main() {
	ConstraintExpr("!purego")
	consts()
	consts256()
	subWord()
	initKey()
	crypt("gcmSealVAES512", false)
	crypt("gcmOpenVAES512", true)
	crypt256("gcmSealVAES256", false)
	crypt256("gcmOpenVAES256", true)
	Generate()
}
