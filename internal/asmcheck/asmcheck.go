// Package asmcheck checks Go amd64 assembly (.s files in the Go assembler's
// syntax) for instruction mixes that cost time on x86 CPUs, function by
// function (TEXT symbol by TEXT symbol):
//
//   - A function that touches ymm or zmm registers must not contain a
//     legacy-SSE (non-VEX) instruction: on Intel, an SSE instruction after
//     the upper halves of the vector registers were written costs a state
//     transition (hundreds of cycles, every call) or a false dependency.
//   - Such a function must execute VZEROUPPER before every RET, CALL or tail
//     jump, as Go's ABI expects: Go code is compiled to SSE.
//   - A function that must run on AVX2 CPUs without AVX-512 must contain no
//     AVX-512 instruction (zmm, mask or high registers, EVEX-only mnemonics).
//
// Functions that use only xmm registers (the AES-NI kernels and key
// schedules) may mix encodings freely: VEX.128 instructions clear the upper
// halves, so neither dirties the upper state.
//
// The parser reads the assembler's plain syntax as avo generates it:
// instructions, labels, comments, DATA and GLOBL. It refuses #define macros
// and raw BYTE/WORD/LONG/QUAD encodings inside a function, which it cannot
// see through.
package asmcheck

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Inst is one line item of a function: an instruction or a label.
type Inst struct {
	Line  int      // 1-based line number in the file
	Label string   // set for a label; Op and Args are then empty
	Op    string   // mnemonic with any suffix (VMOVDQU8.Z), upper case
	Args  []string // operands, trimmed, in source order
}

func (in Inst) String() string {
	if in.Label != "" {
		return in.Label + ":"
	}
	return strings.TrimSpace(in.Op + " " + strings.Join(in.Args, ", "))
}

// Func is one TEXT symbol and its body, up to the next TEXT or end of file.
type Func struct {
	File     string
	Name     string // the symbol without the package dot: gcmSealVAES512
	Line     int
	Requires []string // avo's "// Requires:" comment above the TEXT, if any
	Body     []Inst
}

// Parse splits the assembly src (named file in messages) into functions.
func Parse(file string, src []byte) ([]Func, error) {
	var (
		funcs    []Func
		cur      *Func
		requires []string
	)
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	inComment := false
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		// Block comments, possibly spanning lines.
		var b strings.Builder
		for line != "" {
			if inComment {
				i := strings.Index(line, "*/")
				if i < 0 {
					line = ""
					break
				}
				inComment, line = false, line[i+2:]
				continue
			}
			i := strings.Index(line, "/*")
			if i < 0 {
				b.WriteString(line)
				break
			}
			b.WriteString(line[:i])
			inComment, line = true, line[i+2:]
		}
		line = b.String()
		if i := strings.Index(line, "//"); i >= 0 {
			if r, ok := strings.CutPrefix(strings.TrimSpace(line[i:]), "// Requires:"); ok {
				requires = nil
				for _, f := range strings.Split(r, ",") {
					requires = append(requires, strings.TrimSpace(f))
				}
			}
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			if strings.HasPrefix(line, "#define") {
				return nil, fmt.Errorf("%s:%d: #define macros are not supported", file, n)
			}
			continue // #include, #ifdef...: no instructions
		}
		for _, stmt := range strings.Split(line, ";") {
			stmt = strings.TrimSpace(stmt)
			// Labels, alone or in front of an instruction.
			for {
				m := labelRE.FindStringSubmatch(stmt)
				if m == nil {
					break
				}
				if cur != nil {
					cur.Body = append(cur.Body, Inst{Line: n, Label: m[1]})
				}
				stmt = strings.TrimSpace(stmt[len(m[0]):])
			}
			if stmt == "" {
				continue
			}
			op, rest := stmt, ""
			if j := strings.IndexAny(stmt, " \t"); j >= 0 {
				op, rest = stmt[:j], stmt[j:]
			}
			op = strings.ToUpper(op)
			args := splitArgs(rest)
			switch op {
			case "TEXT":
				if len(args) == 0 {
					return nil, fmt.Errorf("%s:%d: TEXT without a symbol", file, n)
				}
				name := strings.TrimSuffix(args[0], "(SB)")
				if i := strings.LastIndexAny(name, "·."); i >= 0 {
					_, size := utf8.DecodeRuneInString(name[i:])
					name = name[i+size:]
				}
				funcs = append(funcs, Func{File: file, Name: name, Line: n, Requires: requires})
				cur = &funcs[len(funcs)-1]
				requires = nil
				continue
			case "DATA", "GLOBL", "PCDATA", "FUNCDATA":
				continue
			case "BYTE", "WORD", "LONG", "QUAD":
				if cur != nil {
					return nil, fmt.Errorf("%s:%d: raw %s in %s cannot be checked", file, n, op, cur.Name)
				}
				continue
			}
			if cur == nil {
				return nil, fmt.Errorf("%s:%d: instruction %s outside a TEXT symbol", file, n, op)
			}
			cur.Body = append(cur.Body, Inst{Line: n, Op: op, Args: args})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return funcs, nil
}

var labelRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*:`)

// splitArgs splits an operand list at the commas outside parentheses and
// brackets.
func splitArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if last := strings.TrimSpace(s[start:]); last != "" || len(out) > 0 {
		out = append(out, last)
	}
	return out
}

// Class is the encoding family of an instruction.
type Class int

const (
	GP  Class = iota // general-purpose, x87 or control: no vector state
	VEX              // VEX or EVEX encoded (AVX, AVX2, AVX-512, BMI, mask ops)
	SSE              // legacy SSE or MMX encoding on vector registers
)

func (c Class) String() string { return [...]string{"GP", "VEX", "SSE"}[c] }

// Register kinds of a whole operand.
const (
	regNone = iota
	regX
	regY
	regZ
	regK
	regMMX
)

// vecReg reports the kind and number of the register an operand names, if
// it is a vector, mask or MMX register (X0-X31, Y0-Y31, Z0-Z31, K0-K7, M0-M7).
func vecReg(arg string) (kind, num int) {
	if len(arg) < 2 || len(arg) > 3 {
		return regNone, 0
	}
	n, err := strconv.Atoi(arg[1:])
	if err != nil || n < 0 || arg[1] == '+' {
		return regNone, 0
	}
	switch {
	case arg[0] == 'X' && n < 32:
		return regX, n
	case arg[0] == 'Y' && n < 32:
		return regY, n
	case arg[0] == 'Z' && n < 32:
		return regZ, n
	case arg[0] == 'K' && n < 8:
		return regK, n
	case arg[0] == 'M' && n < 8:
		return regMMX, n
	}
	return regNone, 0
}

// vexGP are the VEX-encoded instructions whose mnemonics do not start with
// V: BMI1 and BMI2 on general-purpose registers (Go spells them with an L or
// Q size suffix).
var vexGP = map[string]bool{}

func init() {
	for _, m := range []string{"ANDN", "BEXTR", "BLSI", "BLSMSK", "BLSR", "BZHI",
		"MULX", "PDEP", "PEXT", "RORX", "SARX", "SHLX", "SHRX"} {
		vexGP[m+"L"], vexGP[m+"Q"] = true, true
	}
}

// maskOp matches the AVX-512 opmask instructions (KMOVQ, KORTESTW, ...).
var maskOp = regexp.MustCompile(`^K(ADD|AND|ANDN|MOV|NOT|OR|ORTEST|SHIFTL|SHIFTR|TEST|UNPCK|XNOR|XOR)[BWDQ]{1,2}$`)

// Classify returns the encoding family of in. Mnemonics starting with V are
// VEX or EVEX (except the GP VERR and VERW), as are BMI and opmask
// instructions; any other instruction with an xmm (or MMX) register operand
// is legacy SSE (MOVQ AX, X0, MOVOU, PXOR, PSHUFB, AESENC, PCLMULQDQ...).
// Legacy SSE instructions without a register operand (LDMXCSR, STMXCSR)
// touch no vector register and count as GP.
func Classify(in Inst) Class {
	op, _, _ := strings.Cut(in.Op, ".")
	switch {
	case in.Label != "":
		return GP
	case strings.HasPrefix(op, "V") && op != "VERR" && op != "VERW":
		return VEX
	case vexGP[op] || maskOp.MatchString(op):
		return VEX
	}
	for _, a := range in.Args {
		if k, _ := vecReg(a); k != regNone {
			return SSE
		}
	}
	return GP
}

// Wide reports whether f touches a ymm or zmm register, which leaves the
// upper state dirty until VZEROUPPER.
func (f *Func) Wide() bool {
	for _, in := range f.Body {
		for _, a := range in.Args {
			if k, _ := vecReg(a); k == regY || k == regZ {
				return true
			}
		}
	}
	return false
}

// evexOnly matches the mnemonics that exist only with an EVEX encoding
// (AVX-512), whatever the registers: element-sized logic and moves,
// 128/256-bit lane inserts, extracts and broadcasts by element size,
// ternary logic, rotates, IFMA, VBMI and friends. Their VEX relatives
// (VPXOR, VMOVDQU, VINSERTI128, VPSHUFB...) do not match.
var evexOnly = regexp.MustCompile(`^V(` + strings.Join([]string{
	`P(AND|ANDN|OR|XOR)[DQ]`,
	`MOVDQ[AU](8|16|32|64)`,
	`(BROADCAST|EXTRACT|INSERT)[IF](32X2|32X4|32X8|64X2|64X4)`,
	`SHUF[IF](32X4|64X2)`,
	`PTERNLOG[DQ]`,
	`PRO[LR]V?[DQ]`,
	`ALIGN[DQ]`,
	`PMADD52[LH]UQ`,
	`PERM[IT]2(B|W|D|Q|PS|PD)`,
	`PERM[BW]`,
	`PMULTISHIFTQB`,
	`P(COMPRESS|EXPAND)[BWDQ]`,
	`COMPRESSP[SD]`, `EXPANDP[SD]`,
	`PCONFLICT[DQ]`, `PLZCNT[DQ]`, `POPCNT[BWDQ]`,
	`PSH[LR]DV?[WDQ]`,
	`PTESTN?M[BWDQ]`,
	`PMOV[BWDQ]2M`, `PMOVM2[BWDQ]`,
	`PMOVU?S?(QB|QW|QD|DB|DW|WB)`,
	`PCMPU?[BWDQ]`,
	`P?BLENDM(B|W|D|Q|PS|PD)`,
	`PBROADCASTM(B2Q|W2D)`,
	`(RCP|RSQRT)14(PS|PD|SS|SD)`,
	`(SCALEF|GETEXP|GETMANT|RNDSCALE|REDUCE|RANGE|FIXUPIMM|FPCLASS)(PS|PD|SS|SD)`,
	`DBPSADBW`,
	`P(MIN|MAX)[SU]Q`, `PABSQ`, `PSRAV?Q`, `PMULLQ`, `PSRLVW`, `PSLLVW`, `PSRAVW`,
	`CVT\w*(QQ|UDQ|USI)\w*`,
	`P2INTERSECT[DQ]`,
}, "|") + `)$`)

// AVX512 reports why in needs AVX-512, or "" if it does not: a zmm or
// opmask register, an xmm or ymm register above 15, an EVEX-only mnemonic,
// or an EVEX suffix (.Z, .BCST, .SAE...).
func AVX512(in Inst) string {
	if in.Label != "" {
		return ""
	}
	op, suffix, _ := strings.Cut(in.Op, ".")
	if suffix != "" {
		return "EVEX suffix ." + suffix
	}
	if maskOp.MatchString(op) {
		return "opmask instruction"
	}
	if evexOnly.MatchString(op) {
		return "EVEX-only mnemonic"
	}
	for _, a := range in.Args {
		switch k, n := vecReg(a); {
		case k == regZ:
			return "zmm register " + a
		case k == regK:
			return "opmask register " + a
		case (k == regX || k == regY) && n >= 16:
			return "EVEX-only register " + a
		}
	}
	return ""
}

// Problem is one finding, with the instruction it is about.
type Problem struct {
	File string
	Line int
	Func string
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Func, p.Msg) }

// Check returns the problems of f. noAVX512 says that f must run on CPUs
// without AVX-512 (AVX2 only).
func Check(f *Func, noAVX512 bool) []Problem {
	var out []Problem
	add := func(in Inst, format string, a ...any) {
		out = append(out, Problem{f.File, in.Line, f.Name, fmt.Sprintf(format, a...)})
	}
	wide := f.Wide()
	for i, in := range f.Body {
		if wide && Classify(in) == SSE {
			add(in, "legacy-SSE %s in a function that uses ymm/zmm registers (use the VEX form)", in)
		}
		if noAVX512 {
			if why := AVX512(in); why != "" {
				add(in, "%s needs AVX-512 (%s) in a function that must run on AVX2", in, why)
			}
		}
		if wide && leaves(in) {
			if i == 0 || f.Body[i-1].Op != "VZEROUPPER" {
				add(in, "%s without VZEROUPPER right before it in a function that uses ymm/zmm registers", in)
			}
		}
	}
	if noAVX512 {
		for _, r := range f.Requires {
			if strings.HasPrefix(r, "AVX512") {
				out = append(out, Problem{f.File, f.Line, f.Name,
					"avo lists " + r + " among the requirements of a function that must run on AVX2"})
			}
		}
	}
	return out
}

// leaves reports whether in transfers control out of the function: RET,
// CALL, or a JMP to a symbol (a tail call).
func leaves(in Inst) bool {
	switch in.Op {
	case "RET", "CALL":
		return true
	case "JMP":
		return len(in.Args) == 1 && strings.HasSuffix(in.Args[0], "(SB)")
	}
	return false
}
