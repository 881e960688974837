// Command _asm generates the cbc package's amd64 kernels with avo: CBC
// decryption with 12 xmm blocks in flight (AES-NI) or 12 ymm/zmm registers of
// 2/4 blocks (VAES), the serial CBC encryption chain with the round keys held
// in registers, and multi-lane CBC encryption of independent values (8 lanes
// with AES-NI, 16 with VAES, 32 with VAES-512 for batches of more than 16).
// The key schedule they take comes from internal/aesni.
//
// Every kernel is constant-time: no branch or address depends on key or data,
// only on lengths and the round count.
//
// Run it through go generate in the parent package:
//
//	go generate ./cbc
//
// Every kernel is emitted three times, once per round count (10, 12, 14), and
// picks its copy from nr, the round count, which is public.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

var roundCounts = []int{10, 12, 14}

var labels int

func label(prefix string) string {
	labels++
	return fmt.Sprintf("%s_%d", prefix, labels)
}

// dispatchRounds jumps to one of three labels by the round count in nr.
func dispatchRounds(nr GPPhysical, name string) {
	CMPQ(nr, Imm(12))
	JB(LabelRef(name + "10"))
	JE(LabelRef(name + "12"))
	JMP(LabelRef(name + "14"))
}

func main() {
	ConstraintExpr("!purego")
	encryptCBC()
	decryptCBC("decryptCBCAESNI", sse, "AES-NI, SSE encodings")
	decryptCBC("decryptCBCVAES256", vex256, "VAES on ymm registers (AVX2)")
	decryptCBC("decryptCBCVAES512", evex512, "VAES on zmm registers (AVX-512)")
	encryptBatchAESNI()
	encryptBatchVAES256()
	encryptBatchVAES512("encryptBatchVAES512", 4)
	encryptBatchVAES512("encryptBatchVAES512x32", 8)
	Generate()
}

// encryptCBC emits the serial chain with nothing but AES rounds on it. Round
// keys 1..nr-1 live in X3..X(nr+1); keys 0 and nr are loaded per block (16
// registers do not hold 15 keys and the temporaries). The state x entering
// round 1 of block i is c[i-1]^p[i]^k0, and the last round of block i folds in
// the next block's whitening:
//
//	u = p[i+1]^k0
//	x = AESENCLAST(x, k_nr^u) = c[i]^u    (the input of block i+1's round 1)
//	c[i] = x^u                            (off the chain)
//
// so per block the chain is nr AES instructions and no XOR.
func encryptCBC() {
	TEXT("encryptCBCAESNI", NOSPLIT, "func(xk *byte, nr int, iv *byte, buf *byte, n int)")
	Pragma("noescape")
	Doc("encryptCBCAESNI CBC-encrypts n bytes (a multiple of 16) at buf in place",
		"with the nr-round schedule xk, chaining from the 16 bytes at iv.")
	xk, nr, iv, buf, n := RAX, RCX, RDX, RSI, RBX
	x, t, u := X0, X1, X2
	Load(Param("xk"), xk)
	Load(Param("nr"), nr)
	Load(Param("iv"), iv)
	Load(Param("buf"), buf)
	Load(Param("n"), n)
	CMPQ(n, Imm(16))
	JB(LabelRef("encempty"))
	// x = iv ^ p[0] ^ k0
	MOVOU(Mem{Base: iv}, x)
	MOVOU(Mem{Base: buf}, u)
	PXOR(u, x)
	MOVOU(Mem{Base: xk}, t)
	PXOR(t, x)
	dispatchRounds(nr, "enc")
	for _, r := range roundCounts {
		Label(fmt.Sprintf("enc%d", r))
		keys := make([]VecPhysical, r)
		for i := 1; i < r; i++ {
			keys[i] = xmm(2 + i)
			MOVOU(Mem{Base: xk, Disp: 16 * i}, keys[i])
		}
		loop, last := label("encloop"), label("enclast")
		Label(loop)
		CMPQ(n, Imm(32))
		JB(LabelRef(last))
		for i := 1; i < r; i++ {
			AESENC(keys[i], x)
		}
		MOVOU(Mem{Base: buf, Disp: 16}, u) // p[i+1]
		MOVOU(Mem{Base: xk}, t)
		PXOR(t, u) // u = p[i+1] ^ k0
		MOVOU(Mem{Base: xk, Disp: 16 * r}, t)
		PXOR(u, t)
		AESENCLAST(t, x)
		MOVO(x, t)
		PXOR(u, t)
		MOVOU(t, Mem{Base: buf}) // c[i]
		ADDQ(Imm(16), buf)
		SUBQ(Imm(16), n)
		JMP(LabelRef(loop))
		Label(last)
		for i := 1; i < r; i++ {
			AESENC(keys[i], x)
		}
		MOVOU(Mem{Base: xk, Disp: 16 * r}, t)
		AESENCLAST(t, x)
		MOVOU(x, Mem{Base: buf})
		RET()
	}
	Label("encempty")
	RET()
}

func xmm(i int) VecPhysical {
	return []VecPhysical{X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15, X16, X17, X18, X19, X20, X21, X22, X23, X24, X25, X26, X27, X28, X29, X30, X31}[i]
}
func ymm(i int) VecPhysical {
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15, Y16, Y17, Y18, Y19, Y20, Y21, Y22, Y23, Y24, Y25, Y26, Y27, Y28, Y29, Y30, Y31}[i]
}
func zmm(i int) VecPhysical {
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15, Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
}

// kind is a vector width and instruction encoding.
type kind int

const (
	sse     kind = iota // xmm, legacy SSE encodings: runs with AES-NI alone
	vex128              // xmm, VEX
	vex256              // ymm, VEX (VAES + AVX2), round keys broadcast per round
	evex512             // zmm, EVEX (VAES + AVX-512), round keys resident in Z16..Z30
)

func (k kind) bytes() int { return []int{16, 16, 32, 64}[k] }

func (k kind) reg(i int) VecPhysical {
	switch k {
	case vex256:
		return ymm(i)
	case evex512:
		return zmm(i)
	}
	return xmm(i)
}

// decryptCBC emits a CBC decryption kernel. Decryption has no chain: the
// blocks of a group are independent and only the final XOR needs the previous
// ciphertext, which AESDECLAST takes folded into its round key
// (AESDECLAST(x, k^p) = AESDECLAST(x, k)^p).
//
// Register use: data in 0..11, key in 12 (loaded per round) unless resident,
// temporaries 13 and 14, the previous ciphertext block ("carry") in 15.
// With evex512 the round keys live in Z16..Z16+nr, broadcast once, and the
// carry is broadcast to all four lanes of Z15.
func decryptCBC(name string, main kind, what string) {
	TEXT(name, NOSPLIT, "func(xk *byte, nr int, iv *byte, dst *byte, src *byte, n int)")
	Pragma("noescape")
	Doc(name+" CBC-decrypts n bytes (a multiple of 16) from src to dst, which",
		"do not overlap, with the nr-round decryption schedule xk, chaining from",
		"the 16 bytes at iv. Uses "+what+".")
	xk, nr, iv, dst, src, n := RAX, RCX, RDX, RDI, RSI, RBX
	Load(Param("xk"), xk)
	Load(Param("nr"), nr)
	Load(Param("iv"), iv)
	Load(Param("dst"), dst)
	Load(Param("src"), src)
	Load(Param("n"), n)
	prefix := name + "_"
	switch main {
	case sse:
		MOVOU(Mem{Base: iv}, X15)
	case vex256:
		VMOVDQU(Mem{Base: iv}, X15)
	case evex512:
		VBROADCASTI32X4(Mem{Base: iv}, Z15)
	}
	dispatchRounds(nr, prefix)
	for _, r := range roundCounts {
		Label(fmt.Sprintf("%s%d", prefix, r))
		d := &decGen{main: main, nr: r, xk: xk, dst: dst, src: src, n: n}
		if main == evex512 {
			for i := 0; i <= r; i++ {
				VBROADCASTI32X4(Mem{Base: xk, Disp: 16 * i}, zmm(16+i))
			}
		}
		// mainWidth registers per iteration, then a binary decomposition of
		// the remainder so short inputs also keep several blocks in flight.
		d.group(main, mainWidth, true)
		switch main {
		case sse:
			d.group(sse, 8, false)
			d.group(sse, 4, false)
			d.group(sse, 2, false)
			d.group(sse, 1, false)
		case vex256:
			d.group(vex256, 8, false)
			d.group(vex256, 4, false)
			d.group(vex256, 2, false)
			d.group(vex256, 1, false)
			d.group(vex128, 1, false)
		case evex512:
			d.group(evex512, 8, false)
			d.group(evex512, 4, false)
			d.group(evex512, 2, false)
			d.group(evex512, 1, false)
			d.group(vex128, 2, false)
			d.group(vex128, 1, false)
		}
		if main != sse {
			VZEROUPPER()
		}
		RET()
	}
}

// mainWidth is the number of registers decrypted per main-loop iteration.
const mainWidth = 12

type decGen struct {
	main            kind
	nr              int
	xk, dst, src, n GPPhysical
}

// key returns round key i for vectors of kind k, loading it into register 8
// unless the keys are resident.
func (d *decGen) key(k kind, i int) Op {
	if d.main == evex512 {
		return k.reg(16 + i)
	}
	m := Mem{Base: d.xk, Disp: 16 * i}
	switch k {
	case sse:
		MOVOU(m, X12)
	case vex128:
		VMOVDQU(m, X12)
	case vex256:
		VBROADCASTI128(m, Y12)
	}
	return k.reg(12)
}

// group decrypts cnt registers of kind k: in a loop while that many bytes
// remain, or once if they do.
func (d *decGen) group(k kind, cnt int, loop bool) {
	size := cnt * k.bytes()
	top, done := label("dec"), label("decdone")
	Label(top)
	CMPQ(d.n, U32(size))
	JB(LabelRef(done))
	src := func(off int) Mem { return Mem{Base: d.src, Disp: off} }
	for i := 0; i < cnt; i++ {
		switch k {
		case sse:
			MOVOU(src(i*k.bytes()), k.reg(i))
		case vex128, vex256:
			VMOVDQU(src(i*k.bytes()), k.reg(i))
		case evex512:
			VMOVDQU64(src(i*k.bytes()), k.reg(i))
		}
	}
	if k == evex512 {
		// Z13 = carry, c0, c1, c2: the previous blocks of register 0.
		VALIGNQ(Imm(6), Z15, Z0, Z13)
	}
	k0 := d.key(k, 0)
	for i := 0; i < cnt; i++ {
		if k == sse {
			PXOR(k0, k.reg(i))
		} else {
			d.vpxor(k0, k.reg(i), k.reg(i))
		}
	}
	for rd := 1; rd < d.nr; rd++ {
		kr := d.key(k, rd)
		for i := 0; i < cnt; i++ {
			if k == sse {
				AESDEC(kr, k.reg(i))
			} else {
				VAESDEC(kr, k.reg(i), k.reg(i))
			}
		}
	}
	kl := d.key(k, d.nr)
	for i := 0; i < cnt; i++ {
		prevOff := i*k.bytes() - 16
		switch k {
		case sse:
			if i == 0 {
				MOVO(X15, X13)
			} else {
				MOVOU(src(prevOff), X13)
			}
			PXOR(kl, X13)
			AESDECLAST(X13, k.reg(i))
		case vex128:
			if i == 0 {
				d.vpxor(kl, X15, X13)
			} else {
				d.vpxor(src(prevOff), kl, X13)
			}
			VAESDECLAST(X13, k.reg(i), k.reg(i))
		case vex256:
			if i == 0 {
				VINSERTI128(Imm(1), src(0), Y15, Y13) // carry, c0
				VPXOR(kl, Y13, Y13)
			} else {
				VPXOR(src(prevOff), kl, Y13)
			}
			VAESDECLAST(Y13, k.reg(i), k.reg(i))
		case evex512:
			if i == 0 {
				VPXORQ(kl, Z13, Z13)
				VAESDECLAST(Z13, Z0, Z0)
			} else {
				VPXORQ(src(prevOff), kl, Z14)
				VAESDECLAST(Z14, k.reg(i), k.reg(i))
			}
		}
	}
	// The new carry is the group's last ciphertext block.
	last := src(size - 16)
	switch {
	case k == sse:
		MOVOU(last, X15)
	case d.main == evex512 && k == evex512:
		VBROADCASTI32X4(last, Z15)
	default:
		VMOVDQU(last, X15)
	}
	for i := 0; i < cnt; i++ {
		m := Mem{Base: d.dst, Disp: i * k.bytes()}
		switch k {
		case sse:
			MOVOU(k.reg(i), m)
		case vex128, vex256:
			VMOVDQU(k.reg(i), m)
		case evex512:
			VMOVDQU64(k.reg(i), m)
		}
	}
	ADDQ(U32(size), d.src)
	ADDQ(U32(size), d.dst)
	SUBQ(U32(size), d.n)
	if loop {
		JMP(LabelRef(top))
	}
	Label(done)
}

// vpxor XORs with VEX encoding, or EVEX (VPXORQ) in the AVX-512 kernel,
// whose resident keys sit in registers 16 and up that VEX cannot name.
func (d *decGen) vpxor(a, b, dst Op) {
	if d.main == evex512 {
		VPXORQ(a, b, dst)
		return
	}
	VPXOR(a, b, dst)
}

// Lanes layout shared with batchLanes in batch.go: 32 source pointers, 32
// destination pointers, then 32 chaining values.
const (
	laneSrc = 0
	laneDst = 32 * 8
	laneIVs = 2 * 32 * 8
)

// batchPrologue declares a batch-encrypt function (the signature all of them
// share) and loads its arguments: the round keys xk, the round count nr, the
// lane table and end = 16·nblocks; off, the byte offset into every lane,
// starts at 0, and p is free for lane pointers.
func batchPrologue(name string, doc ...string) (xk, nr, lanes, end, off, p GPPhysical) {
	TEXT(name, NOSPLIT, "func(xk *byte, nr int, lanes *byte, nblocks int)")
	Pragma("noescape")
	Doc(doc...)
	xk, nr, lanes, end, off, p = RAX, RCX, RDX, RBX, RSI, R8
	Load(Param("xk"), xk)
	Load(Param("nr"), nr)
	Load(Param("lanes"), lanes)
	Load(Param("nblocks"), end)
	SHLQ(Imm(4), end)
	XORQ(off, off)
	return
}

// encryptBatchAESNI emits 8-lane CBC encryption: lane l encrypts nblocks
// blocks from src[l] to dst[l] (equal, or not overlapping), chaining from
// iv[l], and leaves its last ciphertext block in iv[l]. Each step loads all
// lanes before it stores any, so two lanes may name the same buffers (the Go
// driver pads with duplicates).
func encryptBatchAESNI() {
	xk, nr, lanes, end, off, p := batchPrologue("encryptBatchAESNI",
		"encryptBatchAESNI CBC-encrypts nblocks blocks from src to dst in each of",
		"the first 8 lanes, interleaved, with the nr-round schedule xk.")
	for l := 0; l < 8; l++ {
		MOVOU(Mem{Base: lanes, Disp: laneIVs + 16*l}, xmm(l))
	}
	MOVOU(Mem{Base: xk}, X10)
	dispatchRounds(nr, "batch")
	for _, r := range roundCounts {
		Label(fmt.Sprintf("batch%d", r))
		loop, done := label("batchloop"), label("batchdone")
		Label(loop)
		CMPQ(off, end)
		JAE(LabelRef(done))
		for l := 0; l < 8; l++ {
			MOVQ(Mem{Base: lanes, Disp: laneSrc + 8*l}, p)
			MOVOU(Mem{Base: p, Index: off, Scale: 1}, X9)
			PXOR(X10, X9)
			PXOR(X9, xmm(l))
		}
		for rd := 1; rd < r; rd++ {
			MOVOU(Mem{Base: xk, Disp: 16 * rd}, X8)
			for l := 0; l < 8; l++ {
				AESENC(X8, xmm(l))
			}
		}
		MOVOU(Mem{Base: xk, Disp: 16 * r}, X8)
		for l := 0; l < 8; l++ {
			AESENCLAST(X8, xmm(l))
		}
		for l := 0; l < 8; l++ {
			MOVQ(Mem{Base: lanes, Disp: laneDst + 8*l}, p)
			MOVOU(xmm(l), Mem{Base: p, Index: off, Scale: 1})
		}
		ADDQ(Imm(16), off)
		JMP(LabelRef(loop))
		Label(done)
		for l := 0; l < 8; l++ {
			MOVOU(xmm(l), Mem{Base: lanes, Disp: laneIVs + 16*l})
		}
		RET()
	}
}

// encryptBatchVAES512 emits CBC encryption of 4·regs lanes (16 or 32): lanes
// 4j..4j+3 share zmm register j, one lane per 128-bit slot, with the
// plaintext gathered in Z(8+j) and the round keys resident in Z16..Z16+nr.
// Same contract as encryptBatchAESNI.
func encryptBatchVAES512(name string, regs int) {
	xk, nr, lanes, end, off, p := batchPrologue(name,
		fmt.Sprintf("%s CBC-encrypts nblocks blocks from src to dst in each", name),
		fmt.Sprintf("of the first %d lanes, interleaved four to a zmm register, with the nr-round schedule xk.", 4*regs))
	for j := 0; j < regs; j++ {
		VMOVDQU64(Mem{Base: lanes, Disp: laneIVs + 64*j}, zmm(j))
	}
	dispatchRounds(nr, name+"_")
	for _, r := range roundCounts {
		Label(fmt.Sprintf("%s_%d", name, r))
		for i := 0; i <= r; i++ {
			VBROADCASTI32X4(Mem{Base: xk, Disp: 16 * i}, zmm(16+i))
		}
		loop, done := label("batchzloop"), label("batchzdone")
		Label(loop)
		CMPQ(off, end)
		JAE(LabelRef(done))
		for j := 0; j < regs; j++ {
			t := zmm(8 + j)
			for q := 0; q < 4; q++ {
				MOVQ(Mem{Base: lanes, Disp: laneSrc + 8*(4*j+q)}, p)
				m := Mem{Base: p, Index: off, Scale: 1}
				if q == 0 {
					VMOVDQU(m, xmm(8+j))
				} else {
					VINSERTI32X4(Imm(uint64(q)), m, t, t)
				}
			}
			VPTERNLOGQ(Imm(0x96), Z16, t, zmm(j)) // state ^= plaintext ^ key 0
		}
		for rd := 1; rd < r; rd++ {
			for j := 0; j < regs; j++ {
				VAESENC(zmm(16+rd), zmm(j), zmm(j))
			}
		}
		for j := 0; j < regs; j++ {
			VAESENCLAST(zmm(16+r), zmm(j), zmm(j))
		}
		for j := 0; j < regs; j++ {
			for q := 0; q < 4; q++ {
				MOVQ(Mem{Base: lanes, Disp: laneDst + 8*(4*j+q)}, p)
				m := Mem{Base: p, Index: off, Scale: 1}
				if q == 0 {
					VMOVDQU(xmm(j), m)
				} else {
					VEXTRACTI32X4(Imm(uint64(q)), zmm(j), m)
				}
			}
		}
		ADDQ(Imm(16), off)
		JMP(LabelRef(loop))
		Label(done)
		for j := 0; j < regs; j++ {
			VMOVDQU64(zmm(j), Mem{Base: lanes, Disp: laneIVs + 64*j})
		}
		VZEROUPPER()
		RET()
	}
}

// encryptBatchVAES256 emits 16-lane CBC encryption with VAES on ymm registers
// (AVX2 only, so 16 vector registers): lanes 2j and 2j+1 share Y0..Y7 register
// j, round key 0 stays broadcast in Y10 and the others are broadcast into Y8
// per round. Same contract as encryptBatchAESNI.
func encryptBatchVAES256() {
	xk, nr, lanes, end, off, p := batchPrologue("encryptBatchVAES256",
		"encryptBatchVAES256 CBC-encrypts nblocks blocks from src to dst in each",
		"of the 16 lanes, interleaved two to a ymm register, with the nr-round schedule xk.")
	for j := 0; j < 8; j++ {
		VMOVDQU(Mem{Base: lanes, Disp: laneIVs + 32*j}, ymm(j))
	}
	VBROADCASTI128(Mem{Base: xk}, Y10)
	dispatchRounds(nr, "batchy")
	for _, r := range roundCounts {
		Label(fmt.Sprintf("batchy%d", r))
		loop, done := label("batchyloop"), label("batchydone")
		Label(loop)
		CMPQ(off, end)
		JAE(LabelRef(done))
		for j := 0; j < 8; j++ {
			MOVQ(Mem{Base: lanes, Disp: laneSrc + 8*(2*j)}, p)
			VMOVDQU(Mem{Base: p, Index: off, Scale: 1}, X9)
			MOVQ(Mem{Base: lanes, Disp: laneSrc + 8*(2*j+1)}, p)
			VINSERTI128(Imm(1), Mem{Base: p, Index: off, Scale: 1}, Y9, Y9)
			VPXOR(Y10, Y9, Y9)
			VPXOR(Y9, ymm(j), ymm(j))
		}
		for rd := 1; rd <= r; rd++ {
			VBROADCASTI128(Mem{Base: xk, Disp: 16 * rd}, Y8)
			for j := 0; j < 8; j++ {
				if rd < r {
					VAESENC(Y8, ymm(j), ymm(j))
				} else {
					VAESENCLAST(Y8, ymm(j), ymm(j))
				}
			}
		}
		for j := 0; j < 8; j++ {
			MOVQ(Mem{Base: lanes, Disp: laneDst + 8*(2*j)}, p)
			VMOVDQU(xmm(j), Mem{Base: p, Index: off, Scale: 1})
			MOVQ(Mem{Base: lanes, Disp: laneDst + 8*(2*j+1)}, p)
			VEXTRACTI128(Imm(1), ymm(j), Mem{Base: p, Index: off, Scale: 1})
		}
		ADDQ(Imm(16), off)
		JMP(LabelRef(loop))
		Label(done)
		for j := 0; j < 8; j++ {
			VMOVDQU(ymm(j), Mem{Base: lanes, Disp: laneIVs + 32*j})
		}
		VZEROUPPER()
		RET()
	}
}
