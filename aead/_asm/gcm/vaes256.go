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
// CTR encrypts sixteen blocks (eight ymm, 256 bytes) per loop iteration:
// a VAESENC has a latency of several cycles and two of them can start
// each cycle, so eight independent states are what keeps the AES units
// busy. Eight states leave no room for the round keys, so each round
// broadcasts its key from rk (a load, no ALU work); the key powers and the
// reduction constant are memory operands too. AES-192 and AES-256 run
// their extra rounds first, so the last nine rounds and the final one are
// addressed from the last round key for every key size, and the hashing
// of the previous sixteen blocks (seal) or of the sixteen being decrypted
// (open) is spread between those nine rounds. The last round XORs the
// input into the round key first (AESENCLAST(k^p, s) = AESENCLAST(k, s)^p),
// which takes the XOR off the critical path.
//
// GHASH is the VAES-512 path's: byte-reflected blocks, the key premultiplied
// by x^-1, products summed unreduced over sixteen blocks with the powers
// H^16..H^1, and one reduction per sixteen blocks by two multiplications
// by x^63 + x^62 + x^57. In the main loop a product is Karatsuba's, three
// carry-less multiplications, the XORed halves of the sixteen powers being
// computed once per call into 128 bytes of stack (measured 14% faster at
// 64 KiB on Zen 5); elsewhere it is schoolbook, four multiplications. The
// accumulator lives in lane 0 of the register that collects the high
// products, and enters the sum through the first block of the next group.
//
// The last 1..255 bytes are encrypted by one 128-byte step if they reach
// 128 bytes, then by one, two, three or four vectors of counter blocks (by
// the length left), and hashed with the powers H^m..H^1 of their m blocks,
// so there is one reduction however the length splits. A final partial
// vector goes through a 32-byte stack buffer: its bytes are copied in and
// out 16, 8, 4, 2 and 1 at a time, by the bits of the length, and the hash
// of sealed data masks the padding off with a sliding window on a
// constant. The additional data is hashed the same way, sixteen blocks per
// reduction. All branches depend on lengths and the key size only.

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

var ctrInc2, gfpoly2, tailMask256 Mem

func consts256() {
	ctrInc2 = GLOBL("gcm_ctr_inc2", RODATA|NOPTR)
	DATA(0, U64(2))
	DATA(8, U64(0))
	DATA(16, U64(2))
	DATA(24, U64(0))

	gfpoly2 = GLOBL("gcm_gfpoly2", RODATA|NOPTR)
	DATA(0, U64(1))
	DATA(8, U64(0xc200000000000000))
	DATA(16, U64(1))
	DATA(24, U64(0xc200000000000000))

	// 32 bytes of ones then 32 of zeros: the 32 bytes at 32-r keep the low
	// r bytes of a vector.
	tailMask256 = GLOBL("gcm_tailmask", RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		v := ^uint64(0)
		if i >= 4 {
			v = 0
		}
		DATA(8*i, U64(v))
	}
}

// Register plan of the VAES-256 kernels: all sixteen ymm registers.
var (
	yA   = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7} // AES states / output vectors
	yKEY = Y8                                            // the current round key, in both lanes
	yC   = Y9                                            // a vector of GHASH input
	yLO  = Y10                                           // unreduced products: low,
	yMI  = Y11                                           // middle
	yHI  = Y12                                           // and high; lane 0 holds the accumulator between groups
	yT0  = Y13
	yCTR = Y14 // little-endian counters, one per lane
	yBSW = Y15 // byte-reflection mask in both lanes

	// In the tail, which uses at most four AES states, the accumulator
	// waits in yACCT while yHI collects products.
	yACCT = Y7
)

// y256 holds the general-purpose registers of one kernel.
type y256 struct {
	rk, nr, rkl Register // round keys, their number, the last one
	htab        Register
	buf         Mem // 32-byte stack buffer for partial vectors
	hx          Mem // 128 bytes on the stack: the key halves of keyHalves
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

// lastRoundXor finishes the states st and XORs them with the vectors at
// src into dst, folding the XOR into the last round key.
func (k *y256) lastRoundXor(st []VecPhysical, src, dst Register) {
	VBROADCASTI128(Mem{Base: k.rkl}, yKEY)
	for j, s := range st {
		VPXOR(Mem{Base: src, Disp: 32 * j}, yKEY, yT0)
		VAESENCLAST(yT0, s, s)
	}
	for j, s := range st {
		VMOVDQU(s, Mem{Base: dst, Disp: 32 * j})
	}
}

// counters256 loads the next nv vectors of counter blocks into yA.
func counters256(nv int) {
	for j := 0; j < nv; j++ {
		VPSHUFB(yBSW, yCTR, yA[j])
		VPADDD(ctrInc2, yCTR, yCTR)
	}
}

// mulAccSteps returns the steps that multiply the two byte-reflected
// blocks in yC by the two key powers at pw and add the unreduced products
// to yLO, yMI, yHI, or set them when first.
func mulAccSteps(first bool, pw Mem) []func() {
	if first {
		return []func(){
			func() {
				VPCLMULQDQ(Imm(0x00), pw, yC, yLO)
				VPCLMULQDQ(Imm(0x11), pw, yC, yHI)
			},
			func() {
				VPCLMULQDQ(Imm(0x01), pw, yC, yMI)
				VPCLMULQDQ(Imm(0x10), pw, yC, yT0)
				VPXOR(yT0, yMI, yMI)
			},
		}
	}
	return []func(){
		func() {
			VPCLMULQDQ(Imm(0x00), pw, yC, yT0)
			VPXOR(yT0, yLO, yLO)
			VPCLMULQDQ(Imm(0x11), pw, yC, yT0)
			VPXOR(yT0, yHI, yHI)
		},
		func() {
			VPCLMULQDQ(Imm(0x01), pw, yC, yT0)
			VPXOR(yT0, yMI, yMI)
			VPCLMULQDQ(Imm(0x10), pw, yC, yT0)
			VPXOR(yT0, yMI, yMI)
		},
	}
}

func mulAcc(first bool, pw Mem) {
	for _, f := range mulAccSteps(first, pw) {
		f()
	}
}

// reduceSteps reduces yLO, yMI, yHI lane by lane and leaves the sum of the
// two lanes in lane 0 of yHI (lane 1 zero), the accumulator. The constant
// is a memory operand: the second source of VPCLMULQDQ, hence imm 0x10 for
// the low half of the product times its high half.
func reduceSteps() []func() {
	return []func(){
		func() {
			VPCLMULQDQ(Imm(0x10), gfpoly2, yLO, yT0)
			VPSHUFD(Imm(0x4e), yLO, yLO)
			VPXOR(yLO, yMI, yMI)
			VPXOR(yT0, yMI, yMI)
		},
		func() {
			VPCLMULQDQ(Imm(0x10), gfpoly2, yMI, yT0)
			VPSHUFD(Imm(0x4e), yMI, yMI)
			VPXOR(yMI, yHI, yHI)
			VPXOR(yT0, yHI, yHI)
		},
		func() {
			VEXTRACTI128(Imm(1), yHI, yT0.AsX())
			VPXOR(yT0.AsX(), yHI.AsX(), yHI.AsX())
		},
	}
}

func reduce256() {
	for _, f := range reduceSteps() {
		f()
	}
}

// hashSteps returns, as steps for rounds, the hashing into the accumulator
// of the sixteen blocks at p+disp with the powers H^16..H^1. With
// karatsuba (the key halves at k.hx computed), a product takes three
// carry-less multiplications instead of four: the middle one multiplies
// the XORs of the halves, and LO and HI are taken out of it once per
// group.
func (k *y256) hashSteps(p Register, disp int, karatsuba bool) []func() {
	var steps []func()
	for j := 0; j < 8; j++ {
		steps = append(steps, func() {
			VMOVDQU(Mem{Base: p, Disp: disp + 32*j}, yC)
			VPSHUFB(yBSW, yC, yC)
			if j == 0 {
				VPXOR(yHI, yC, yC)
			}
		})
		pw := Mem{Base: k.htab, Disp: 32 * j}
		if !karatsuba {
			steps = append(steps, mulAccSteps(j == 0, pw)...)
			continue
		}
		// The XORed key halves of vector j are in the low (even j) or
		// high (odd j) quadword of each lane of the vector at hx+32(j/2).
		hx, imm := k.hx.Offset(32*(j/2)), uint64(0x10*(j%2))
		steps = append(steps,
			func() {
				if j == 0 {
					VPCLMULQDQ(Imm(0x00), pw, yC, yLO)
					VPCLMULQDQ(Imm(0x11), pw, yC, yHI)
					return
				}
				VPCLMULQDQ(Imm(0x00), pw, yC, yT0)
				VPXOR(yT0, yLO, yLO)
				VPCLMULQDQ(Imm(0x11), pw, yC, yT0)
				VPXOR(yT0, yHI, yHI)
			},
			func() {
				VPSHUFD(Imm(0x4e), yC, yT0)
				VPXOR(yC, yT0, yT0)
				if j == 0 {
					VPCLMULQDQ(Imm(imm), hx, yT0, yMI)
					return
				}
				VPCLMULQDQ(Imm(imm), hx, yT0, yT0)
				VPXOR(yT0, yMI, yMI)
			},
		)
	}
	if karatsuba {
		steps = append(steps, func() {
			VPXOR(yLO, yMI, yMI)
			VPXOR(yHI, yMI, yMI)
		})
	}
	return append(steps, reduceSteps()...)
}

// keyHalves stores at k.hx, for Karatsuba products, the XOR of the two
// halves of each of H^16..H^1: that of vector j of htab in the low (even
// j) or high (odd j) quadword of each lane of the vector at hx+32(j/2).
// It clobbers yC, yT0, yLO and yMI.
func (k *y256) keyHalves() {
	for q := 0; q < 4; q++ {
		for i, t := range []VecPhysical{yLO, yMI} {
			VMOVDQU(Mem{Base: k.htab, Disp: 64*q + 32*i}, yC)
			VPSHUFD(Imm(0x4e), yC, t)
			VPXOR(yC, t, t)
		}
		VPUNPCKLQDQ(yMI, yLO, yT0)
		VMOVDQU(yT0, k.hx.Offset(32*q))
	}
}

// startTail moves the accumulator to yACCT and clears yLO, yMI, yHI for a
// tail whose blocks are accumulated with dynamic powers.
func startTail() {
	VMOVDQA(yHI, yACCT)
	VPXOR(yLO, yLO, yLO)
	VPXOR(yMI, yMI, yMI)
	VPXOR(yHI, yHI, yHI)
}

// addAcc adds the waiting accumulator to the byte-reflected input in yC,
// once: yACCT is cleared.
func addAcc() {
	VPXOR(yACCT, yC, yC)
	VPXOR(yACCT, yACCT, yACCT)
}

// copyShort copies r (0..31) bytes from src to dst in pieces of 16, 8, 4, 2
// and 1 by the bits of r. It clobbers off, tmp and yT0.
func copyShort(src, dst Mem, r, off, tmp Register) {
	XORQ(off, off)
	for _, size := range []int{16, 8, 4, 2, 1} {
		skip := label("y_copy")
		TESTB(U8(size), r.(GPPhysical).As8())
		JZ(LabelRef(skip))
		s, d := src.Idx(off, 1), dst.Idx(off, 1)
		switch size {
		case 16:
			VMOVDQU(s, yT0.AsX())
			VMOVDQU(yT0.AsX(), d)
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

// loadShort loads the m (0..15) bytes at q into x, zero-padded, without
// touching memory outside them: two overlapping loads of 8, 4 or 1 and 2
// bytes, the second shifted into place (SHLX/SHRX, so any register holds
// the count). It clobbers t1, t2 and cnt.
func loadShort(q Mem, m, x, t1, t2, cnt Register) {
	gt8, ge4, lt4, zero, done := label("y_ld_gt8"), label("y_ld_ge4"), label("y_ld_lt4"),
		label("y_ld_zero"), label("y_ld_done")
	CMPQ(m, Imm(8))
	JA(LabelRef(gt8))
	CMPQ(m, Imm(4))
	JAE(LabelRef(ge4))
	TESTQ(m, m)
	JNZ(LabelRef(lt4))
	Label(zero)
	VPXOR(x, x, x)
	JMP(LabelRef(done))

	// 9..15 bytes: the first 8, then the 8 ending at q+m shifted right by
	// 16-m bytes.
	Label(gt8)
	VMOVQ(q, x)
	MOVQ(q.Idx(m, 1).Offset(-8), t1)
	MOVQ(U32(16), cnt)
	SUBQ(m, cnt)
	SHLQ(Imm(3), cnt)
	SHRXQ(cnt, t1, t1)
	VPINSRQ(Imm(1), t1, x, x)
	JMP(LabelRef(done))

	// 4..8 bytes: the first 4 and the 4 ending at q+m, shifted left by
	// m-4 bytes (the bytes they share are equal, so OR merges them).
	Label(ge4)
	MOVL(q, t1.(GPPhysical).As32())
	MOVL(q.Idx(m, 1).Offset(-4), t2.(GPPhysical).As32())
	LEAQ(Mem{Base: m, Disp: -4}, cnt)
	SHLQ(Imm(3), cnt)
	SHLXQ(cnt, t2, t2)
	ORQ(t2, t1)
	VMOVQ(t1, x)
	JMP(LabelRef(done))

	// 1..3 bytes: the first one and the 2 ending at q+m when m >= 2.
	Label(lt4)
	MOVBQZX(q, t1)
	CMPQ(m, Imm(2))
	JB(LabelRef(zero + "_one"))
	MOVWQZX(q.Idx(m, 1).Offset(-2), t2)
	LEAQ(Mem{Base: m, Disp: -2}, cnt)
	SHLQ(Imm(3), cnt)
	SHLXQ(cnt, t2, t2)
	ORQ(t2, t1)
	Label(zero + "_one")
	VMOVQ(t1, x)
	Label(done)
}

// loadPartial loads the r (1..31) bytes at p into yC, zero-padded, without
// touching memory outside them. It clobbers tmp[0..3] and yT0.
func loadPartial(p, r Register, tmp [4]Register) {
	short, done := label("y_lp_short"), label("y_lp_done")
	m := tmp[3]
	CMPQ(r, Imm(16))
	JB(LabelRef(short))
	VMOVDQU(Mem{Base: p}, yC.AsX())
	LEAQ(Mem{Base: r, Disp: -16}, m)
	loadShort(Mem{Base: p, Disp: 16}, m, yT0.AsX(), tmp[0], tmp[1], tmp[2])
	VINSERTI128(Imm(1), yT0.AsX(), yC, yC)
	JMP(LabelRef(done))
	Label(short)
	loadShort(Mem{Base: p}, r, yC.AsX(), tmp[0], tmp[1], tmp[2])
	Label(done)
}

// ghashBuffer hashes the n bytes at p into the accumulator, the last
// partial block zero-padded: sixteen blocks per reduction, then the rest
// with the powers H^m..H^1 of its m blocks. It clobbers p, n, hp, AX,
// BX, DX and R10.
func (k *y256) ghashBuffer(p, n, hp Register) {
	loop, tail, vloop, partial, red, done := label("y_gh_loop"), label("y_gh_tail"),
		label("y_gh_vloop"), label("y_gh_partial"), label("y_gh_reduce"), label("y_gh_done")
	Label(loop)
	CMPQ(n, U32(256))
	JB(LabelRef(tail))
	for _, f := range k.hashSteps(p, 0, false) {
		f()
	}
	ADDQ(U32(256), p)
	SUBQ(U32(256), n)
	JMP(LabelRef(loop))

	Label(tail)
	TESTQ(n, n)
	JZ(LabelRef(done))
	tailPowers256(n, k.htab, hp)
	startTail()
	Label(vloop)
	CMPQ(n, Imm(32))
	JB(LabelRef(partial))
	VMOVDQU(Mem{Base: p}, yC)
	VPSHUFB(yBSW, yC, yC)
	addAcc()
	mulAcc(false, Mem{Base: hp})
	ADDQ(Imm(32), p)
	ADDQ(Imm(32), hp)
	SUBQ(Imm(32), n)
	JMP(LabelRef(vloop))
	Label(partial)
	TESTQ(n, n)
	JZ(LabelRef(red))
	loadPartial(p, n, [4]Register{RAX, RBX, RDX, R10})
	VPSHUFB(yBSW, yC, yC)
	addAcc()
	mulAcc(false, Mem{Base: hp})
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
		loadPartial(sp, r, [4]Register{off, tmp, RDI, R12}) // yC = input, zero-padded
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
		addAcc()
	}
	mulAcc(false, Mem{Base: hp, Disp: 32 * j})
}

func crypt256(name string, open bool) {
	cryptText(name, open, "It needs AVX2,", "VAES and VPCLMULQDQ, not AVX-512.")
	k := &y256{rk: RDI, nr: R8, rkl: R12, htab: R9}
	k.buf = AllocLocal(32)
	k.hx = AllocLocal(128)
	Load(Param("rk"), k.rk)
	Load(Param("nr"), k.nr)
	Load(Param("htab"), k.htab)
	MOVQ(k.nr, k.rkl)
	SHLQ(Imm(4), k.rkl)
	ADDQ(k.rk, k.rkl)
	VBROADCASTI128(bswapMask, yBSW)
	VPXOR(yHI, yHI, yHI)

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

	// Sixteen blocks per iteration. Open hashes the ciphertext it reads
	// while the counters are encrypted; seal hashes the sixteen blocks it
	// wrote in the previous iteration, and the last ones after the loop.
	loop, tail, done := label("y_loop"), label("y_tail"), label("y_crypt_done")
	advance := func(bytes int) {
		ADDQ(U32(uint32(bytes)), src)
		ADDQ(U32(uint32(bytes)), dst)
		SUBQ(U32(uint32(bytes)), n)
	}
	CMPQ(n, U32(256))
	JB(LabelRef(tail))
	k.keyHalves()
	if open {
		Label(loop)
		counters256(8)
		k.rounds(yA, k.hashSteps(src, 0, true))
		k.lastRoundXor(yA, src, dst)
		advance(256)
		CMPQ(n, U32(256))
		JAE(LabelRef(loop))
	} else {
		flush := label("y_flush")
		counters256(8)
		k.rounds(yA, nil)
		k.lastRoundXor(yA, src, dst)
		advance(256)
		Label(loop)
		CMPQ(n, U32(256))
		JB(LabelRef(flush))
		counters256(8)
		k.rounds(yA, k.hashSteps(dst, -256, true))
		k.lastRoundXor(yA, src, dst)
		advance(256)
		JMP(LabelRef(loop))
		Label(flush)
		for _, f := range k.hashSteps(dst, -256, true) {
			f()
		}
	}

	// The last 1..255 bytes: 128 of them if there are, then one to four
	// vectors by the length left.
	Label(tail)
	TESTQ(n, n)
	JZ(LabelRef(done))
	tailPowers256(n, k.htab, hp)
	startTail()
	small, red := label("y_tail_small"), label("y_tail_reduce")
	CMPQ(n, U32(128))
	JB(LabelRef(small))
	counters256(4)
	var steps []func()
	if open {
		for j := 0; j < 4; j++ {
			steps = append(steps, func() {
				VMOVDQU(Mem{Base: src, Disp: 32 * j}, yC)
				VPSHUFB(yBSW, yC, yC)
				if j == 0 {
					addAcc()
				}
			})
			steps = append(steps, mulAccSteps(false, Mem{Base: hp, Disp: 32 * j})...)
		}
	}
	k.rounds(yA[:4], steps)
	k.lastRoundXor(yA[:4], src, dst)
	if !open {
		for j := 0; j < 4; j++ {
			VPSHUFB(yBSW, yA[j], yC)
			if j == 0 {
				addAcc()
			}
			mulAcc(false, Mem{Base: hp, Disp: 32 * j})
		}
	}
	advance(128)
	ADDQ(U32(128), hp)
	TESTQ(n, n)
	JZ(LabelRef(red))

	Label(small)
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
		if nv < 4 {
			JMP(LabelRef(red))
		}
	}
	Label(red)
	reduce256()
	Label(done)

	// Lengths block, byte-reflected: ciphertext bits low, AD bits high.
	acc := yHI.AsX()
	Load(Param("src").Len(), RAX)
	SHLQ(Imm(3), RAX)
	Load(Param("ad").Len(), RBX)
	SHLQ(Imm(3), RBX)
	VMOVQ(RAX, X0)
	VPINSRQ(Imm(1), RBX, X0, X0)
	VPXOR(X0, acc, acc)
	VMOVDQU(Mem{Base: k.htab, Disp: 240}, X1)
	VMOVDQU(gfpoly, X5)
	ghashMulX(false, X1, acc, acc, X2, X3, X4, X5)
	VPSHUFB(yBSW.AsX(), acc, acc)

	// Tag = E(J0) ^ GHASH.
	VPXOR(Mem{Base: tag}, acc, acc)
	VMOVDQU(acc, Mem{Base: tag})
	VZEROUPPER()
	RET()
}
