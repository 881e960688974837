package main

// # VAES-256: AES-GCM on ymm registers, AVX2 + VAES + VPCLMULQDQ
//
// For CPUs with VAES but no AVX-512 (AMD Zen 3, Intel Alder Lake and later
// client parts, Sierra Forest) and for any CPU where 256-bit vectors run
// better: only the 16 VEX registers Y0-Y15, no opmask register, no
// EVEX-only form. It takes the same arguments as the VAES-512 kernels and
// the same htab (H^16..H^1 from gcmInitVAES, then zeros): a ymm register
// holds two blocks, so the vector at htab+32k holds H^(16-2k) in its low
// lane and H^(15-2k) in its high lane, the powers for the two blocks of
// one 32-byte vector of input.
//
// CTR encrypts eight blocks (four ymm, 128 bytes) per loop iteration. The
// round keys do not fit in registers next to the AES states and the GHASH
// state, so each round broadcasts its key from rk (a load, no ALU work).
// AES-192 and AES-256 run their extra rounds first, so the last nine rounds
// and the final one are addressed from the last round key for every key
// size, and the hashing of the previous eight blocks (seal) or of the eight
// being decrypted (open) is spread between those nine rounds. The last
// round XORs the input into the round key first (AESENCLAST(k^p, s) =
// AESENCLAST(k, s)^p), which takes the XOR off the critical path.
//
// GHASH is the VAES-512 path's: byte-reflected blocks, the key premultiplied
// by x^-1, schoolbook products (four carry-less multiplications) summed
// unreduced over eight blocks (the additional data: sixteen), and one
// reduction by two multiplications by x^63 + x^62 + x^57.
//
// The last 1..127 bytes are encrypted by one, two, three or four vectors
// of counter blocks (by length) and hashed with the powers H^m..H^1 of
// their m blocks, so there is one reduction however the length splits. A
// final partial vector goes through a 32-byte stack buffer: its bytes are
// copied in and out 16, 8, 4, 2 and 1 at a time, by the bits of the length,
// and the hash of sealed data masks the padding off with a sliding window
// on a constant. All branches depend on lengths and the key size only.

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

var ctrInc2, tailMask256 Mem

func consts256() {
	ctrInc2 = GLOBL("gcm_ctr_inc2", RODATA|NOPTR)
	DATA(0, U64(2))
	DATA(8, U64(0))
	DATA(16, U64(2))
	DATA(24, U64(0))

	// 32 bytes of ones then 32 of zeros: the 32 bytes at 32-r keep the low
	// r bytes of a vector.
	tailMask256 = GLOBL("gcm_tailmask", RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(8*i, U64(^uint64(0)>>(64*(i/4))))
	}
}

// Register plan of the VAES-256 kernels: all sixteen ymm registers.
var (
	yA   = []VecPhysical{Y0, Y1, Y2, Y3} // AES states / output vectors
	yLO  = Y4
	yMI  = Y5
	yHI  = Y6
	yC   = Y7 // a vector of GHASH input
	yT0  = Y8
	yT1  = Y9
	yPW  = Y15 // two key powers
	yBSW = Y10 // byte-reflection mask in both lanes
	yGFP = Y11 // reduction constant in both lanes
	yCTR = Y12 // little-endian counters, one per lane
	yACC = Y13 // GHASH accumulator in lane 0, lane 1 zero
	yKEY = Y14 // the round key of the current round, in both lanes
)

// y256 holds the general-purpose registers of one kernel.
type y256 struct {
	rk, nr, rkl Register // round keys, their number, the last one
	htab        Register
	buf         Mem // 32-byte stack buffer for partial vectors
}

// rounds encrypts the states st in place (counter blocks already in them)
// with the round keys in memory, running the independent steps between
// the last nine full rounds.
func (k *y256) rounds(st []VecPhysical, steps []func()) {
	VBROADCASTI128(Mem{Base: k.rk}, yKEY)
	for _, s := range st {
		VPXOR(yKEY, s, s)
	}
	enc := func(disp int) {
		VBROADCASTI128(Mem{Base: k.rkl, Disp: disp}, yKEY)
		for _, s := range st {
			VAESENC(yKEY, s, s)
		}
	}
	l128, l192 := label("y_aes128"), label("y_aes192")
	CMPQ(k.nr, Imm(12))
	JB(LabelRef(l128))
	JE(LabelRef(l192))
	enc(-13 * 16)
	enc(-12 * 16)
	Label(l192)
	enc(-11 * 16)
	enc(-10 * 16)
	Label(l128)
	per := (len(steps) + 8) / 9
	for r := 9; r >= 1; r-- {
		enc(-r * 16)
		for i := 0; i < per && len(steps) > 0; i++ {
			steps[0]()
			steps = steps[1:]
		}
	}
	for _, f := range steps {
		f()
	}
}

// lastRound finishes the states st with the last round key.
func (k *y256) lastRound(st []VecPhysical) {
	VBROADCASTI128(Mem{Base: k.rkl}, yKEY)
	for _, s := range st {
		VAESENCLAST(yKEY, s, s)
	}
}

// lastRoundXor finishes the four states and XORs them with the 128 bytes
// at src into dst, folding the XOR into the last round key.
func (k *y256) lastRoundXor(src, dst Register) {
	VBROADCASTI128(Mem{Base: k.rkl}, yKEY)
	for j, s := range yA {
		VPXOR(Mem{Base: src, Disp: 32 * j}, yKEY, yT0)
		VAESENCLAST(yT0, s, s)
	}
	for j, s := range yA {
		VMOVDQU(s, Mem{Base: dst, Disp: 32 * j})
	}
}

// counters loads the next nv vectors of counter blocks into yA.
func counters256(nv int) {
	for j := 0; j < nv; j++ {
		VPSHUFB(yBSW, yCTR, yA[j])
		VPADDD(ctrInc2, yCTR, yCTR)
	}
}

// mulAcc multiplies the two byte-reflected blocks in yC by the two key
// powers in yPW and adds the unreduced products to yLO, yMI, yHI
// (initialising them when first). It returns the work as steps.
func mulAccSteps(first bool) []func() {
	if first {
		return []func(){
			func() {
				VPCLMULQDQ(Imm(0x00), yPW, yC, yLO)
				VPCLMULQDQ(Imm(0x11), yPW, yC, yHI)
			},
			func() {
				VPCLMULQDQ(Imm(0x01), yPW, yC, yMI)
				VPCLMULQDQ(Imm(0x10), yPW, yC, yT0)
				VPXOR(yT0, yMI, yMI)
			},
		}
	}
	return []func(){
		func() {
			VPCLMULQDQ(Imm(0x00), yPW, yC, yT0)
			VPXOR(yT0, yLO, yLO)
			VPCLMULQDQ(Imm(0x11), yPW, yC, yT1)
			VPXOR(yT1, yHI, yHI)
		},
		func() {
			VPCLMULQDQ(Imm(0x01), yPW, yC, yT0)
			VPXOR(yT0, yMI, yMI)
			VPCLMULQDQ(Imm(0x10), yPW, yC, yT1)
			VPXOR(yT1, yMI, yMI)
		},
	}
}

func mulAcc(first bool) {
	for _, f := range mulAccSteps(first) {
		f()
	}
}

// reduceSteps reduces yLO, yMI, yHI lane by lane and leaves the sum of the
// two lanes in yACC (lane 1 zero).
func reduceSteps() []func() {
	return []func(){
		func() {
			VPCLMULQDQ(Imm(0x01), yLO, yGFP, yT0)
			VPSHUFD(Imm(0x4e), yLO, yLO)
			VPXOR(yLO, yMI, yMI)
			VPXOR(yT0, yMI, yMI)
		},
		func() {
			VPCLMULQDQ(Imm(0x01), yMI, yGFP, yT0)
			VPSHUFD(Imm(0x4e), yMI, yMI)
			VPXOR(yMI, yHI, yHI)
			VPXOR(yT0, yHI, yHI)
		},
		func() {
			VEXTRACTI128(Imm(1), yHI, yT0.AsX())
			VPXOR(yT0.AsX(), yHI.AsX(), yACC.AsX())
		},
	}
}

func reduce256() {
	for _, f := range reduceSteps() {
		f()
	}
}

// loadHash loads the 32 bytes at m into yC, byte-reflected, with the
// accumulator added when first.
func loadHash(m Mem, first bool) {
	VMOVDQU(m, yC)
	VPSHUFB(yBSW, yC, yC)
	if first {
		VPXOR(yACC, yC, yC)
	}
}

// hashSteps returns, as steps for rounds, the hashing into yACC of the
// eight blocks at p+disp with the powers H^8..H^1.
func (k *y256) hashSteps(p Register, disp int) []func() {
	var steps []func()
	for j := 0; j < 4; j++ {
		steps = append(steps, func() {
			loadHash(Mem{Base: p, Disp: disp + 32*j}, j == 0)
			VMOVDQU(Mem{Base: k.htab, Disp: 128 + 32*j}, yPW)
		})
		steps = append(steps, mulAccSteps(j == 0)...)
	}
	return append(steps, reduceSteps()...)
}

// copyShort copies r (0..31) bytes from src to dst in pieces of 16, 8, 4, 2
// and 1 by the bits of r. It clobbers off and tmp.
func copyShort(src, dst Mem, r, off, tmp Register) {
	XORQ(off, off)
	for _, size := range []int{16, 8, 4, 2, 1} {
		skip := label("y_copy")
		TESTB(U8(size), r.(GPPhysical).As8())
		JZ(LabelRef(skip))
		s, d := src.Idx(off, 1), dst.Idx(off, 1)
		switch size {
		case 16:
			VMOVDQU(s, yT1.AsX())
			VMOVDQU(yT1.AsX(), d)
		case 8:
			MOVQ(s, tmp)
			MOVQ(tmp, d)
		case 4:
			MOVL(s, tmp.(GPPhysical).As32())
			MOVL(tmp.(GPPhysical).As32(), d)
		case 2:
			MOVW(s, tmp.(GPPhysical).As16())
			MOVW(tmp.(GPPhysical).As16(), d)
		case 1:
			MOVB(s, tmp.(GPPhysical).As8())
			MOVB(tmp.(GPPhysical).As8(), d)
		}
		if size > 1 {
			ADDQ(U8(size), off)
		}
		Label(skip)
	}
}

// loadPartial loads r (1..31) bytes at p into yC, zero-padded, through
// the stack buffer. It clobbers off and tmp.
func (k *y256) loadPartial(p, r, off, tmp Register) {
	VPXOR(yC, yC, yC)
	VMOVDQU(yC, k.buf)
	copyShort(Mem{Base: p}, k.buf, r, off, tmp)
	VMOVDQU(k.buf, yC)
}

// ghashBuffer hashes the n bytes at p into yACC, the last partial block
// zero-padded: sixteen blocks (eight vectors) per reduction, then the rest
// with the powers H^m..H^1 of its m blocks. It clobbers p, n, hp, AX, BX.
func (k *y256) ghashBuffer(p, n, hp Register) {
	loop, tail, vloop, partial, red, done := label("y_gh_loop"), label("y_gh_tail"),
		label("y_gh_vloop"), label("y_gh_partial"), label("y_gh_reduce"), label("y_gh_done")
	Label(loop)
	CMPQ(n, U32(256))
	JB(LabelRef(tail))
	for j := 0; j < 8; j++ {
		loadHash(Mem{Base: p, Disp: 32 * j}, j == 0)
		VMOVDQU(Mem{Base: k.htab, Disp: 32 * j}, yPW)
		mulAcc(j == 0)
	}
	reduce256()
	ADDQ(U32(256), p)
	SUBQ(U32(256), n)
	JMP(LabelRef(loop))

	Label(tail)
	TESTQ(n, n)
	JZ(LabelRef(done))
	tailPowers256(n, k.htab, hp)
	VPXOR(yLO, yLO, yLO)
	VPXOR(yMI, yMI, yMI)
	VPXOR(yHI, yHI, yHI)
	Label(vloop)
	CMPQ(n, Imm(32))
	JB(LabelRef(partial))
	loadHash(Mem{Base: p}, true)
	VPXOR(yACC, yACC, yACC)
	VMOVDQU(Mem{Base: hp}, yPW)
	mulAcc(false)
	ADDQ(Imm(32), p)
	ADDQ(Imm(32), hp)
	SUBQ(Imm(32), n)
	JMP(LabelRef(vloop))
	Label(partial)
	TESTQ(n, n)
	JZ(LabelRef(red))
	k.loadPartial(p, n, RAX, RBX)
	VPSHUFB(yBSW, yC, yC)
	VPXOR(yACC, yC, yC)
	VMOVDQU(Mem{Base: hp}, yPW)
	mulAcc(false)
	Label(red)
	reduce256()
	Label(done)
}

// tailPowers256 sets hp to the powers H^m..H^1 for the m = ceil(n/16)
// blocks of a tail of n (1..255) bytes.
func tailPowers256(n, htab, hp Register) {
	MOVQ(n, hp)
	ADDQ(Imm(15), hp)
	ANDQ(I8(-16), hp)
	NEGQ(hp)
	ADDQ(htab, hp)
	ADDQ(U32(256), hp)
}

// tailVector encrypts or decrypts vector j of the tail (its keystream in
// yA[j]) and adds its hash to yLO, yMI, yHI. The last vector holds
// r = n - 32j bytes, 1..32; shorter than 32 it goes through the buffer.
func (k *y256) tailVector(open bool, j int, last bool, src, dst, n, hp Register) {
	ms, md := Mem{Base: src, Disp: 32 * j}, Mem{Base: dst, Disp: 32 * j}
	a := yA[j]
	full := func() {
		if open {
			VMOVDQU(ms, yC)
			VPXOR(yC, a, a)
			VMOVDQU(a, md)
			VPSHUFB(yBSW, yC, yC)
		} else {
			VPXOR(ms, a, a)
			VMOVDQU(a, md)
			VPSHUFB(yBSW, a, yC)
		}
	}
	join := label("y_tail_hash")
	if last {
		partial := label("y_tail_partial")
		r, off, tmp, sp := RBX, RAX, R8, R10
		MOVQ(n, r)
		if j > 0 {
			SUBQ(U8(32*j), r)
		}
		CMPQ(r, Imm(32))
		JB(LabelRef(partial))
		full()
		JMP(LabelRef(join))

		Label(partial)
		LEAQ(ms, sp)
		k.loadPartial(sp, r, off, tmp) // yC = input, zero-padded
		VPXOR(yC, a, a)
		VMOVDQU(a, k.buf)
		LEAQ(md, sp)
		copyShort(k.buf, Mem{Base: sp}, r, off, tmp)
		if open {
			VPSHUFB(yBSW, yC, yC)
		} else {
			LEAQ(tailMask256.Offset(32), off)
			SUBQ(r, off)
			VPAND(Mem{Base: off}, a, yC)
			VPSHUFB(yBSW, yC, yC)
		}
	} else {
		full()
	}
	Label(join)
	if j == 0 {
		VPXOR(yACC, yC, yC)
	}
	VMOVDQU(Mem{Base: hp, Disp: 32 * j}, yPW)
	mulAcc(j == 0)
}

func crypt256(name string, open bool) {
	verb := "encrypts"
	if open {
		verb = "decrypts"
	}
	TEXT(name, NOSPLIT, "func(rk *[240]byte, nr int, htab *[320]byte, j0 *[16]byte, dst, src, ad []byte, tag *[16]byte)")
	Pragma("noescape")
	Doc(
		name+" "+verb+" src into dst (len(dst) >= len(src)) with AES-GCM under the",
		"round keys rk (nr rounds) and key powers htab, counter block j0, and",
		"additional data ad, and writes the GCM tag of the ciphertext to tag.",
		"nr must be 10, 12 or 14; len(src) must be below 2^36-32. It needs AVX2,",
		"VAES and VPCLMULQDQ, not AVX-512.",
	)
	k := &y256{rk: RDI, nr: R8, rkl: R12, htab: R9}
	k.buf = AllocLocal(32)
	Load(Param("rk"), k.rk)
	Load(Param("nr"), k.nr)
	Load(Param("htab"), k.htab)
	MOVQ(k.nr, k.rkl)
	SHLQ(Imm(4), k.rkl)
	ADDQ(k.rk, k.rkl)
	VBROADCASTI128(bswapMask, yBSW)
	VBROADCASTI128(gfpoly, yGFP)
	VPXOR(yACC, yACC, yACC)

	// E(J0), parked in *tag until the hash is done.
	j0, tag := R10, R11
	Load(Param("j0"), j0)
	Load(Param("tag"), tag)
	VMOVDQU(Mem{Base: j0}, X0)
	aesBlockMem(X0, k.rk, k.nr)
	VMOVDQU(X0, Mem{Base: tag})

	// Counters J0+1, J0+2.
	VBROADCASTI128(Mem{Base: j0}, yCTR)
	VPSHUFB(yBSW, yCTR, yCTR)
	VPADDD(ctrInit, yCTR, yCTR)

	// Additional data.
	hp := R13
	Load(Param("ad").Base(), RSI)
	Load(Param("ad").Len(), RCX)
	k.ghashBuffer(RSI, RCX, hp)

	src, dst, n := RSI, RDX, RCX
	Load(Param("src").Base(), src)
	Load(Param("dst").Base(), dst)
	Load(Param("src").Len(), n)

	// Eight blocks per iteration. Open hashes the ciphertext it reads
	// while the counters are encrypted; seal hashes the eight blocks it
	// wrote in the previous iteration, and the last ones after the loop.
	loop, tail, done := label("y_loop"), label("y_tail"), label("y_crypt_done")
	advance := func() {
		SUBQ(I8(-128), src)
		SUBQ(I8(-128), dst)
		ADDQ(I8(-128), n)
	}
	if open {
		Label(loop)
		CMPQ(n, U8(128))
		JB(LabelRef(tail))
		counters256(4)
		k.rounds(yA, k.hashSteps(src, 0))
		k.lastRoundXor(src, dst)
		advance()
		JMP(LabelRef(loop))
	} else {
		flush := label("y_flush")
		CMPQ(n, U8(128))
		JB(LabelRef(tail))
		counters256(4)
		k.rounds(yA, nil)
		k.lastRoundXor(src, dst)
		advance()
		Label(loop)
		CMPQ(n, U8(128))
		JB(LabelRef(flush))
		counters256(4)
		k.rounds(yA, k.hashSteps(dst, -128))
		k.lastRoundXor(src, dst)
		advance()
		JMP(LabelRef(loop))
		Label(flush)
		for _, f := range k.hashSteps(dst, -128) {
			f()
		}
	}

	// The last 1..127 bytes: one to four vectors by length.
	Label(tail)
	TESTQ(n, n)
	JZ(LabelRef(done))
	tailPowers256(n, k.htab, hp)
	var cases []string
	for nv := 1; nv <= 4; nv++ {
		cases = append(cases, label("y_tail"))
	}
	CMPQ(n, U8(32))
	JBE(LabelRef(cases[0]))
	CMPQ(n, U8(64))
	JBE(LabelRef(cases[1]))
	CMPQ(n, U8(96))
	JBE(LabelRef(cases[2]))
	JMP(LabelRef(cases[3]))
	for nv := 1; nv <= 4; nv++ {
		Label(cases[nv-1])
		counters256(nv)
		k.rounds(yA[:nv], nil)
		k.lastRound(yA[:nv])
		for j := 0; j < nv; j++ {
			k.tailVector(open, j, j == nv-1, src, dst, n, hp)
		}
		reduce256()
		JMP(LabelRef(done))
	}
	Label(done)

	// Lengths block, byte-reflected: ciphertext bits low, AD bits high.
	Load(Param("src").Len(), RAX)
	SHLQ(Imm(3), RAX)
	Load(Param("ad").Len(), RBX)
	SHLQ(Imm(3), RBX)
	VMOVQ(RAX, X0)
	VPINSRQ(Imm(1), RBX, X0, X0)
	VPXOR(X0, yACC.AsX(), yACC.AsX())
	VMOVDQU(Mem{Base: k.htab, Disp: 240}, X1)
	ghashMulX(false, X1, yACC.AsX(), yACC.AsX(), X2, X3, X4, yGFP.AsX())
	VPSHUFB(yBSW.AsX(), yACC.AsX(), yACC.AsX())

	// Tag = E(J0) ^ GHASH.
	VPXOR(Mem{Base: tag}, yACC.AsX(), yACC.AsX())
	VMOVDQU(yACC.AsX(), Mem{Base: tag})
	VZEROUPPER()
	RET()
}
