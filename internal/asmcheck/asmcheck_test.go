package asmcheck_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/internal/asmcheck"
)

// mustRunOnAVX2 names the functions that must not need AVX-512: the AES-NI
// kernels, every VAES-256 kernel (for Zen 3, Alder Lake and other CPUs with
// VAES but no AVX-512), and the key setup that the VAES-512 and VAES-256
// GCM kernels share.
var mustRunOnAVX2 = regexp.MustCompile(`AESNI|VAES256|^gcmInitVAES$|^aesSubWord$`)

// moduleRoot returns the directory of the module's go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// TestCommittedAssembly checks every .s file of the module that the go
// command builds (directories starting with _ or . and testdata are not
// built, nor is ./bin).
func TestCommittedAssembly(t *testing.T) {
	root := moduleRoot(t)
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".") ||
				name == "testdata" || path == filepath.Join(root, "bin")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".s") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var nfunc, nwide, navx2 int
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, path)
		funcs, err := asmcheck.Parse(rel, src)
		if err != nil {
			t.Fatal(err)
		}
		for i := range funcs {
			f := &funcs[i]
			nfunc++
			if f.Wide() {
				nwide++
			}
			avx2 := mustRunOnAVX2.MatchString(f.Name)
			if avx2 {
				navx2++
			}
			for _, p := range asmcheck.Check(f, avx2) {
				t.Error(p)
			}
		}
	}
	t.Logf("%d files, %d functions, %d using ymm/zmm, %d AVX2-only", len(files), nfunc, nwide, navx2)
	// The walk must have found the kernels, or this test proves nothing.
	if nwide < 4 || navx2 < 4 {
		t.Fatalf("found only %d ymm/zmm and %d AVX2-only functions in %d files", nwide, navx2, len(files))
	}
}

// TestFlagsLegacyMOVQ puts back the legacy-SSE MOVQ AX, X0 that the
// VAES-512 GCM seal once executed after writing zmm registers (an SSE/AVX
// transition on Intel every call), and checks that the committed file
// passes and the altered one is flagged at that line.
func TestFlagsLegacyMOVQ(t *testing.T) {
	path := filepath.Join(moduleRoot(t), "aead", "gcm_amd64.s")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seal := func(src []byte) *asmcheck.Func {
		funcs, err := asmcheck.Parse("gcm_amd64.s", src)
		if err != nil {
			t.Fatal(err)
		}
		for i := range funcs {
			if funcs[i].Name == "gcmSealVAES512" {
				return &funcs[i]
			}
		}
		t.Fatal("no gcmSealVAES512 in gcm_amd64.s")
		return nil
	}
	f := seal(src)
	if !f.Wide() {
		t.Fatal("gcmSealVAES512 is not seen using zmm registers")
	}
	if p := asmcheck.Check(f, false); len(p) != 0 {
		t.Fatalf("committed gcmSealVAES512: %v", p)
	}

	// Reintroduce the legacy form at the VMOVQ of the lengths block.
	var line int
	for _, in := range f.Body {
		if in.Op == "VMOVQ" && len(in.Args) == 2 && in.Args[0] == "AX" && in.Args[1] == "X0" {
			line = in.Line
		}
	}
	if line == 0 {
		t.Fatal("no VMOVQ AX, X0 in gcmSealVAES512")
	}
	lines := bytes.Split(src, []byte("\n"))
	lines[line-1] = []byte("\tMOVQ AX, X0")
	got := asmcheck.Check(seal(bytes.Join(lines, []byte("\n"))), false)
	if len(got) != 1 || got[0].Line != line || !strings.Contains(got[0].Msg, "legacy-SSE MOVQ AX, X0") {
		t.Fatalf("altered gcmSealVAES512: got %v, want one legacy-SSE finding at line %d", got, line)
	}
}

func check(t *testing.T, src string, noAVX512 bool) []asmcheck.Problem {
	t.Helper()
	funcs, err := asmcheck.Parse("x.s", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var out []asmcheck.Problem
	for i := range funcs {
		out = append(out, asmcheck.Check(&funcs[i], noAVX512)...)
	}
	return out
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src      string
		noAVX512 bool
		want     []string // substrings of the findings, in order
	}{
		{"xmm AES-NI may use SSE", "TEXT ·f(SB), NOSPLIT, $0\n\tMOVOU (AX), X0\n\tAESENC X1, X0\n\tMOVQ AX, X2\n\tRET\n", true, nil},
		{"ymm with SSE", "TEXT ·f(SB), NOSPLIT, $0\n\tVPXOR Y0, Y0, Y0\n\tPXOR X1, X1\n\tVZEROUPPER\n\tRET\n", false,
			[]string{"legacy-SSE PXOR X1, X1"}},
		{"zmm with MOVD", "TEXT ·f(SB), NOSPLIT, $0\n\tVMOVDQU64 (AX), Z3\n\tMOVL AX, X0 // MOVD\n\tVZEROUPPER\n\tRET\n", false,
			[]string{"legacy-SSE MOVL AX, X0"}},
		{"BMI and mask ops are VEX", "TEXT ·f(SB), NOSPLIT, $0\n\tBZHIQ AX, BX, CX\n\tKMOVQ CX, K1\n\tVMOVDQU8.Z (SI), K1, Z0\n\tSHLXQ AX, BX, BX\n\tPDEPQ AX, BX, CX\n\tVZEROUPPER\n\tRET\n", false, nil},
		{"no VZEROUPPER", "TEXT ·f(SB), NOSPLIT, $0\n\tVPXOR Y0, Y0, Y0\n\tRET\n", false,
			[]string{"RET without VZEROUPPER"}},
		{"label between VZEROUPPER and RET", "TEXT ·f(SB), NOSPLIT, $0\n\tVPXOR Y0, Y0, Y0\n\tVZEROUPPER\nskip:\n\tRET\n", false,
			[]string{"RET without VZEROUPPER"}},
		{"every RET", "TEXT ·f(SB), NOSPLIT, $0\n\tVPXOR Y0, Y0, Y0\n\tJZ a\n\tVZEROUPPER\n\tRET\na: RET\n", false,
			[]string{"RET without VZEROUPPER"}},
		{"tail call", "TEXT ·f(SB), NOSPLIT, $0\n\tVPXOR Y0, Y0, Y0\n\tJMP ·g(SB)\n", false,
			[]string{"JMP ·g(SB) without VZEROUPPER"}},
		{"xmm VEX needs no VZEROUPPER", "TEXT ·f(SB), NOSPLIT, $0\n\tVPXOR X0, X0, X0\n\tRET\n", false, nil},
		{"AVX2-only: ternary logic", "TEXT ·f(SB), NOSPLIT, $0\n\tVPTERNLOGD $0x96, Y1, Y2, Y3\n\tVPXORD Y1, Y2, Y3\n\tVZEROUPPER\n\tRET\n", true,
			[]string{"VPTERNLOGD", "VPXORD"}},
		{"AVX2-only: registers", "TEXT ·f(SB), NOSPLIT, $0\n\tVPXOR Y16, Y1, Y1\n\tVAESENC Z1, Z2, Z2\n\tVMOVDQU (AX), K1, Y1\n\tVZEROUPPER\n\tRET\n", true,
			[]string{"Y16", "zmm register Z1", "opmask register K1"}},
		{"AVX2-only: VEX forms pass", "// Requires: AVX, AVX2, VAES\nTEXT ·f(SB), NOSPLIT, $0\n\tVBROADCASTI128 (AX), Y1\n\tVAESENC Y1, Y2, Y2\n\tVPCLMULQDQ $0x11, (BX), Y3, Y4\n\tVEXTRACTI128 $1, Y4, X5\n\tVPMASKMOVD (AX), Y1, Y2\n\tVZEROUPPER\n\tRET\n", true, nil},
		{"AVX2-only: avo requirements", "// Requires: AVX, AVX512F\nTEXT ·f(SB), NOSPLIT, $0\n\tRET\n", true,
			[]string{"avo lists AVX512F"}},
		{"statements and comments", "TEXT ·f(SB), NOSPLIT, $0\n\tVPXOR Y0, Y0, Y0 /* a\n comment */; PSHUFB X1, X0; l: MOVQ X0, AX\n\tVZEROUPPER; RET\n", false,
			[]string{"PSHUFB X1, X0", "MOVQ X0, AX"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := check(t, tc.src, tc.noAVX512)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d findings %v, want %d %q", len(got), got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i].String(), w) {
					t.Errorf("finding %d = %q, want it to mention %q", i, got[i], w)
				}
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for _, src := range []string{
		"#define X(a) PXOR a, a\nTEXT ·f(SB), NOSPLIT, $0\n\tRET\n",
		"TEXT ·f(SB), NOSPLIT, $0\n\tBYTE $0xc5\n\tRET\n",
		"\tRET\n",
	} {
		if _, err := asmcheck.Parse("x.s", []byte(src)); err == nil {
			t.Errorf("Parse(%q) succeeded", src)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		op   string
		args []string
		want asmcheck.Class
	}{
		{"MOVQ", []string{"AX", "X0"}, asmcheck.SSE},
		{"MOVQ", []string{"AX", "BX"}, asmcheck.GP},
		{"MOVQ", []string{"X10", "8(SP)"}, asmcheck.SSE},
		{"PCLMULQDQ", []string{"$0x00", "X1", "X2"}, asmcheck.SSE},
		{"PEXTRQ", []string{"$1", "X1", "AX"}, asmcheck.SSE},
		{"PEXTQ", []string{"AX", "BX", "CX"}, asmcheck.VEX}, // BMI2, not PEXTRQ
		{"VMOVQ", []string{"AX", "X0"}, asmcheck.VEX},
		{"VPADDD.BCST", []string{"(AX)", "Z1", "Z1"}, asmcheck.VEX},
		{"RORXQ", []string{"$3", "AX", "BX"}, asmcheck.VEX},
		{"KORTESTW", []string{"K1", "K1"}, asmcheck.VEX},
		{"PXOR", []string{"M0", "M1"}, asmcheck.SSE},
		{"LEAQ", []string{"X0(SB)", "AX"}, asmcheck.GP}, // a symbol named X0, not a register
	} {
		if got := asmcheck.Classify(asmcheck.Inst{Op: tc.op, Args: tc.args}); got != tc.want {
			t.Errorf("Classify(%s %v) = %v, want %v", tc.op, tc.args, got, tc.want)
		}
	}
}
