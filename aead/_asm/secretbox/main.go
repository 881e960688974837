// Command secretbox generates aead's AVX-512 XSalsa20 and AVX-512 IFMA
// Poly1305 kernels with avo.
//
// Run it through go generate in the parent package:
//
//	go generate ./aead
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	salsa()
	poly()
	Generate()
}

// zmm returns physical register Zn.
func zmm(n int) VecPhysical {
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[n]
}

// salsa generates salsa20XOR16, which XORs n 1024-byte chunks of in with the
// Salsa20/20 keystream of 16 consecutive blocks each and writes them to out.
//
// The 16 blocks of a chunk are computed side by side: zmm register i holds
// state word i of all 16 blocks, one per dword lane, so the rounds are plain
// lane-wise add, rotate (VPROLD) and xor with no shuffles; a 16x16 dword
// transpose turns the result back into blocks.
func salsa() {
	iota := GLOBL("salsaIota", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(i))
	}
	sixteen := GLOBL("salsaSixteen", RODATA|NOPTR)
	DATA(0, U32(16))

	TEXT("salsa20XOR16", NOSPLIT, "func(out, in *byte, n int, state *[16]uint32)")
	Pragma("noescape")
	Doc("salsa20XOR16 XORs n*1024 bytes of in with the Salsa20/20 keystream of",
		"state (key, nonce and block counter in Salsa20's 16-word layout) and writes",
		"them to out, which may equal in. The block counter is state[8] and must not",
		"wrap within the call; state[9] is used as is.")
	out := Load(Param("out"), GP64())
	in := Load(Param("in"), GP64())
	n := Load(Param("n"), GP64())
	st := Load(Param("state"), GP64())
	rounds := GP64()

	ctr, inc := Z20, Z21
	VPBROADCASTD(Mem{Base: st, Disp: 4 * 8}, ctr)
	VPADDD(iota, ctr, ctr)
	VPBROADCASTD(sixteen, inc)

	TESTQ(n, n)
	JZ(LabelRef("salsaDone"))
	Label("salsaChunk")
	for i := 0; i < 16; i++ {
		if i == 8 {
			VMOVDQA32(ctr, zmm(8))
			continue
		}
		VPBROADCASTD(Mem{Base: st, Disp: 4 * i}, zmm(i))
	}
	MOVQ(U32(10), rounds)
	Label("salsaRound")
	// Column round, then row round. quarter(a, b, c, d):
	// b ^= (a+d)<<<7; c ^= (b+a)<<<9; d ^= (c+b)<<<13; a ^= (d+c)<<<18.
	quarter4([4][4]int{{0, 4, 8, 12}, {5, 9, 13, 1}, {10, 14, 2, 6}, {15, 3, 7, 11}})
	quarter4([4][4]int{{0, 1, 2, 3}, {5, 6, 7, 4}, {10, 11, 8, 9}, {15, 12, 13, 14}})
	DECQ(rounds)
	JNZ(LabelRef("salsaRound"))

	for i := 0; i < 16; i++ {
		if i == 8 {
			VPADDD(ctr, zmm(8), zmm(8))
			continue
		}
		VPADDD_BCST(Mem{Base: st, Disp: 4 * i}, zmm(i), zmm(i))
	}

	// Transpose each group of four words within the 128-bit lanes: afterwards
	// register 4g+j, 128-bit lane q, holds words 4g..4g+3 of block 4q+j.
	t := [4]VecPhysical{Z16, Z17, Z18, Z19}
	for g := 0; g < 4; g++ {
		a, b, c, d := zmm(4*g), zmm(4*g+1), zmm(4*g+2), zmm(4*g+3)
		VPUNPCKLDQ(b, a, t[0])
		VPUNPCKHDQ(b, a, t[1])
		VPUNPCKLDQ(d, c, t[2])
		VPUNPCKHDQ(d, c, t[3])
		VPUNPCKLQDQ(t[2], t[0], a)
		VPUNPCKHQDQ(t[2], t[0], b)
		VPUNPCKLQDQ(t[3], t[1], c)
		VPUNPCKHQDQ(t[3], t[1], d)
	}
	// Then gather the 128-bit lanes: block 4q+j is lane q of registers
	// j, 4+j, 8+j, 12+j.
	o := [4]VecPhysical{Z22, Z23, Z24, Z25}
	for j := 0; j < 4; j++ {
		r0, r1, r2, r3 := zmm(j), zmm(4+j), zmm(8+j), zmm(12+j)
		VSHUFI32X4(U8(0x44), r1, r0, t[0])
		VSHUFI32X4(U8(0xee), r1, r0, t[1])
		VSHUFI32X4(U8(0x44), r3, r2, t[2])
		VSHUFI32X4(U8(0xee), r3, r2, t[3])
		VSHUFI32X4(U8(0x88), t[2], t[0], o[0])
		VSHUFI32X4(U8(0xdd), t[2], t[0], o[1])
		VSHUFI32X4(U8(0x88), t[3], t[1], o[2])
		VSHUFI32X4(U8(0xdd), t[3], t[1], o[3])
		for q := 0; q < 4; q++ {
			off := 64 * (4*q + j)
			VPXORD(Mem{Base: in, Disp: off}, o[q], o[q])
			VMOVDQU32(o[q], Mem{Base: out, Disp: off})
		}
	}

	VPADDD(inc, ctr, ctr)
	ADDQ(U32(1024), in)
	ADDQ(U32(1024), out)
	DECQ(n)
	JNZ(LabelRef("salsaChunk"))
	Label("salsaDone")
	VZEROUPPER()
	RET()
}

// quarter4 runs four independent Salsa20 quarter-rounds interleaved step by
// step, over the state registers named by idx.
func quarter4(idx [4][4]int) {
	t := [4]VecPhysical{Z16, Z17, Z18, Z19}
	steps := []struct {
		dst, x, y int
		rot       uint8
	}{
		{1, 0, 3, 7}, {2, 1, 0, 9}, {3, 2, 1, 13}, {0, 3, 2, 18},
	}
	for _, s := range steps {
		for k := 0; k < 4; k++ {
			VPADDD(zmm(idx[k][s.y]), zmm(idx[k][s.x]), t[k])
		}
		for k := 0; k < 4; k++ {
			VPROLD(U8(s.rot), t[k], t[k])
		}
		for k := 0; k < 4; k++ {
			VPXORD(t[k], zmm(idx[k][s.dst]), zmm(idx[k][s.dst]))
		}
	}
}

// poly generates poly1305Blocks8, eight interleaved Poly1305 accumulators in
// radix 2^44 (limbs of 44, 44 and 42 bits) multiplied with AVX-512 IFMA.
//
// Lane L of the accumulators takes the blocks 8c+p(L) of chunk c, with
// p = 0,4,1,5,2,6,3,7 (the order VPUNPCK[LH]QDQ leaves them in). With
// 2^130 = 5 (mod p) and so 2^132 = 20, the product of h and r is
//
//	d0 = h0 r0 + h1 20r2 + h2 20r1
//	d1 = h0 r1 + h1 r0   + h2 20r2
//	d2 = h0 r2 + h1 r1   + h2 r0
//
// VPMADD52LUQ/HUQ give the low and high 52 bits of each 104-bit product;
// the high half is worth 2^52 = 2^8 of the next limb.
func poly() {
	mask44 := GLOBL("polyMask44", RODATA|NOPTR)
	DATA(0, U64(1<<44-1))
	mask42 := GLOBL("polyMask42", RODATA|NOPTR)
	DATA(0, U64(1<<42-1))
	pad := GLOBL("polyPad", RODATA|NOPTR)
	DATA(0, U64(1<<40))

	TEXT("poly1305Blocks8", NOSPLIT, "func(h *[24]uint64, msg *byte, n int, r *[40]uint64)")
	Pragma("noescape")
	Doc("poly1305Blocks8 absorbs n 128-byte chunks of msg into the eight radix-2^44",
		"accumulators h (limb 0 of the lanes, then limb 1, then limb 2): for each",
		"chunk, lane by lane, h = (h + m) * r, where r holds per-lane r0, r1, r2,",
		"20*r1 and 20*r2. Limbs of h must be below 2^46 and those of r below 2^45",
		"on entry (so every IFMA input is below 2^52); those of h are below 2^45 on",
		"return.")
	hp := Load(Param("h"), GP64())
	msg := Load(Param("msg"), GP64())
	n := Load(Param("n"), GP64())
	rp := Load(Param("r"), GP64())

	h0, h1, h2 := Z0, Z1, Z2
	r0, r1, r2, s1, s2 := Z3, Z4, Z5, Z6, Z7
	m44, m42, p40 := Z8, Z9, Z10
	a, b, lo, hi := Z11, Z12, Z13, Z14
	d0l, d0h, d1l, d1h, d2l, d2h := Z15, Z16, Z17, Z18, Z19, Z20
	tmp := Z21

	for i, z := range []VecPhysical{h0, h1, h2} {
		VMOVDQU64(Mem{Base: hp, Disp: 64 * i}, z)
	}
	for i, z := range []VecPhysical{r0, r1, r2, s1, s2} {
		VMOVDQU64(Mem{Base: rp, Disp: 64 * i}, z)
	}
	VPBROADCASTQ(mask44, m44)
	VPBROADCASTQ(mask42, m42)
	VPBROADCASTQ(pad, p40)

	TESTQ(n, n)
	JZ(LabelRef("polyDone"))
	Label("polyChunk")
	VMOVDQU64(Mem{Base: msg}, a)
	VMOVDQU64(Mem{Base: msg, Disp: 64}, b)
	VPUNPCKLQDQ(b, a, lo)
	VPUNPCKHQDQ(b, a, hi)
	// m0 = lo & m44; m1 = (lo>>44 | hi<<20) & m44; m2 = hi>>24 | 2^40.
	VPANDQ(m44, lo, tmp)
	VPADDQ(tmp, h0, h0)
	VPSRLQ(U8(44), lo, lo)
	VPSLLQ(U8(20), hi, tmp)
	VPORQ(tmp, lo, lo)
	VPANDQ(m44, lo, lo)
	VPADDQ(lo, h1, h1)
	VPSRLQ(U8(24), hi, hi)
	VPORQ(p40, hi, hi)
	VPADDQ(hi, h2, h2)

	for _, z := range []VecPhysical{d0l, d0h, d1l, d1h, d2l, d2h} {
		VPXORQ(z, z, z)
	}
	mul := func(x, y, dl, dh VecPhysical) {
		VPMADD52LUQ(y, x, dl)
		VPMADD52HUQ(y, x, dh)
	}
	mul(h0, r0, d0l, d0h)
	mul(h0, r1, d1l, d1h)
	mul(h0, r2, d2l, d2h)
	mul(h1, s2, d0l, d0h)
	mul(h1, r0, d1l, d1h)
	mul(h1, r1, d2l, d2h)
	mul(h2, s1, d0l, d0h)
	mul(h2, s2, d1l, d1h)
	mul(h2, r0, d2l, d2h)

	// Carry d0 -> d1 -> d2 -> (times 5) h0 -> h1.
	carry := func(dl, dh, next, h VecPhysical, bits uint8, mask VecPhysical) {
		VPSRLQ(U8(bits), dl, tmp)
		VPSLLQ(U8(52-bits), dh, dh)
		VPANDQ(mask, dl, h)
		VPADDQ(tmp, dh, dh)
		if next != nil {
			VPADDQ(dh, next, next)
		}
	}
	carry(d0l, d0h, d1l, h0, 44, m44)
	carry(d1l, d1h, d2l, h1, 44, m44)
	carry(d2l, d2h, nil, h2, 42, m42)
	VPADDQ(d2h, h0, h0)
	VPSLLQ(U8(2), d2h, d2h)
	VPADDQ(d2h, h0, h0)
	VPSRLQ(U8(44), h0, tmp)
	VPANDQ(m44, h0, h0)
	VPADDQ(tmp, h1, h1)

	ADDQ(U32(128), msg)
	DECQ(n)
	JNZ(LabelRef("polyChunk"))
	Label("polyDone")
	for i, z := range []VecPhysical{h0, h1, h2} {
		VMOVDQU64(z, Mem{Base: hp, Disp: 64 * i})
	}
	VZEROUPPER()
	RET()
}
