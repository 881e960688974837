// Command _asm generates internal/aesni's key expansion with avo: the AES
// key schedule with AESKEYGENASSIST (no tables) and the equivalent inverse
// cipher's schedule with AESIMC, shared by the AES-NI and VAES kernels of
// cbc and aead.
//
// Run it through go generate in the parent package:
//
//	go generate ./internal/aesni
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	expandKey()
	Generate()
}

// dispatchRounds jumps to one of three labels by the round count in nr.
func dispatchRounds(nr GPPhysical, name string) {
	CMPQ(nr, Imm(12))
	JB(LabelRef(name + "10"))
	JE(LabelRef(name + "12"))
	JMP(LabelRef(name + "14"))
}

// shiftXor sets x to the prefix XOR of its 32-bit words: w0, w0^w1, w0^w1^w2,
// w0^w1^w2^w3, the word recurrence of the AES key schedule. t is clobbered.
func shiftXor(x, t VecPhysical) {
	MOVO(x, t)
	for i := 0; i < 3; i++ {
		PSLLDQ(Imm(4), t)
		PXOR(t, x)
	}
}

func expandKey() {
	TEXT("expandKeyAsm", NOSPLIT, "func(key *byte, nr int, enc *byte, dec *byte)")
	Pragma("noescape")
	Doc("expandKeyAsm writes the encryption schedule (nr+1 round keys) of the",
		"16, 24 or 32 byte key (nr = 10, 12, 14) to enc, and the schedule of the",
		"equivalent inverse cipher (AESIMC of the middle keys, reversed) to dec.",
		"It uses AESKEYGENASSIST, no tables. enc and dec hold at least 240 bytes.")
	key, nr, enc, dec := RAX, RCX, RBX, RDX
	Load(Param("key"), key)
	Load(Param("nr"), nr)
	Load(Param("enc"), enc)
	Load(Param("dec"), dec)
	dispatchRounds(nr, "expand")
	rcons := []uint64{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36}

	// AES-128: one AESKEYGENASSIST per round key.
	Label("expand10")
	MOVOU(Mem{Base: key}, X0)
	MOVOU(X0, Mem{Base: enc})
	for i := 0; i < 10; i++ {
		AESKEYGENASSIST(Imm(rcons[i]), X0, X1)
		PSHUFD(Imm(0xff), X1, X1)
		shiftXor(X0, X2)
		PXOR(X1, X0)
		MOVOU(X0, Mem{Base: enc, Disp: 16 * (i + 1)})
	}
	invertKeys(10, enc, dec)
	RET()

	// AES-192: six words per step, stored contiguously (24 bytes a step).
	Label("expand12")
	MOVOU(Mem{Base: key}, X0)
	MOVQ(Mem{Base: key, Disp: 16}, X3)
	MOVOU(X0, Mem{Base: enc})
	MOVQ(X3, Mem{Base: enc, Disp: 16})
	for i := 1; i <= 8; i++ {
		AESKEYGENASSIST(Imm(rcons[i-1]), X3, X1)
		PSHUFD(Imm(0x55), X1, X1) // RotWord(SubWord(w[6i-1])) ^ rcon
		shiftXor(X0, X2)
		PXOR(X1, X0) // w[6i .. 6i+3]
		MOVOU(X0, Mem{Base: enc, Disp: 24 * i})
		if i == 8 {
			break // 52 words are enough
		}
		PSHUFD(Imm(0xff), X0, X1) // w[6i+3] in every word
		MOVO(X3, X2)
		PSLLDQ(Imm(4), X2)
		PXOR(X2, X3)
		PXOR(X1, X3) // w[6i+4], w[6i+5] in the low words
		MOVQ(X3, Mem{Base: enc, Disp: 24*i + 16})
	}
	invertKeys(12, enc, dec)
	RET()

	// AES-256: two round keys per step.
	Label("expand14")
	MOVOU(Mem{Base: key}, X0)
	MOVOU(Mem{Base: key, Disp: 16}, X3)
	MOVOU(X0, Mem{Base: enc})
	MOVOU(X3, Mem{Base: enc, Disp: 16})
	for i := 1; i <= 7; i++ {
		AESKEYGENASSIST(Imm(rcons[i-1]), X3, X1)
		PSHUFD(Imm(0xff), X1, X1) // RotWord(SubWord(w[8i-1])) ^ rcon
		shiftXor(X0, X2)
		PXOR(X1, X0)
		MOVOU(X0, Mem{Base: enc, Disp: 32 * i})
		if i == 7 {
			break
		}
		AESKEYGENASSIST(Imm(0), X0, X1)
		PSHUFD(Imm(0xaa), X1, X1) // SubWord(w[8i+3])
		shiftXor(X3, X2)
		PXOR(X1, X3)
		MOVOU(X3, Mem{Base: enc, Disp: 32*i + 16})
	}
	invertKeys(14, enc, dec)
	RET()
}

// invertKeys writes the decryption schedule: dec[0] = enc[nr],
// dec[i] = AESIMC(enc[nr-i]), dec[nr] = enc[0].
func invertKeys(nr int, enc, dec GPPhysical) {
	MOVOU(Mem{Base: enc, Disp: 16 * nr}, X0)
	MOVOU(X0, Mem{Base: dec})
	for i := 1; i < nr; i++ {
		MOVOU(Mem{Base: enc, Disp: 16 * (nr - i)}, X1) // SSE memory operands must be aligned
		AESIMC(X1, X0)
		MOVOU(X0, Mem{Base: dec, Disp: 16 * i})
	}
	MOVOU(Mem{Base: enc}, X0)
	MOVOU(X0, Mem{Base: dec, Disp: 16 * nr})
}
