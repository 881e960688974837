// Package cpu reports the x86 features atrest's hot paths dispatch on.
//
// The flags are read once at start from golang.org/x/sys/cpu, completed with
// CPUID where x/sys lacks a bit (x/sys reports VAES and VPCLMULQDQ only when
// AVX-512 is usable, but both exist with 256-bit registers on AVX2-only CPUs),
// and then lowered by the off-switches in GODEBUG:
//
//	GODEBUG=atrestasm=0      no assembly at all: every package takes its portable path
//	GODEBUG=atrestavx512=0   no AVX-512 (zmm) kernels
//	GODEBUG=atrestvaes=0     no VAES or VPCLMULQDQ kernels
//
// Built with the purego tag, every flag is false.
package cpu

import (
	"os"
	"strings"
)

// X86 holds the features of the running CPU that the operating system has
// enabled, after the GODEBUG off-switches. Packages read it once at init time;
// tests should use internal/impl to force a path instead of writing here.
var X86 struct {
	HasAES        bool // AES-NI
	HasPCLMULQDQ  bool // carry-less multiply, 128 bit
	HasSSSE3      bool
	HasSSE41      bool
	HasAVX        bool
	HasAVX2       bool
	HasBMI2       bool
	HasADX        bool
	HasVAES       bool // VAES on ymm (and zmm when HasAVX512 is set)
	HasVPCLMULQDQ bool // VPCLMULQDQ on ymm (and zmm when HasAVX512 is set)
	HasAVX512     bool // AVX-512 F, BW, VL and DQ, usable by the OS
	HasAVX512IFMA bool // 52-bit integer multiply-add
	HasAVX512VBMI bool
}

// Debug holds the GODEBUG off-switches that were applied, for reports.
var Debug []string

func init() {
	detect()
	applyGODEBUG(os.Getenv("GODEBUG"))
}

// applyGODEBUG lowers feature flags from a GODEBUG value such as
// "atrestasm=0,atrestvaes=0". Unknown settings are ignored, as the runtime does.
func applyGODEBUG(v string) {
	for _, kv := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || val != "0" {
			continue
		}
		switch k {
		case "atrestasm":
			X86 = struct {
				HasAES, HasPCLMULQDQ, HasSSSE3, HasSSE41, HasAVX, HasAVX2, HasBMI2, HasADX,
				HasVAES, HasVPCLMULQDQ, HasAVX512, HasAVX512IFMA, HasAVX512VBMI bool
			}{}
		case "atrestavx512":
			X86.HasAVX512, X86.HasAVX512IFMA, X86.HasAVX512VBMI = false, false, false
		case "atrestvaes":
			X86.HasVAES, X86.HasVPCLMULQDQ = false, false
		default:
			continue
		}
		Debug = append(Debug, k+"=0")
	}
}

// Features lists the enabled features by name, in a fixed order, for
// benchmark configuration lines and reports.
func Features() []string {
	var out []string
	for _, f := range []struct {
		name string
		on   bool
	}{
		{"aes", X86.HasAES}, {"pclmulqdq", X86.HasPCLMULQDQ}, {"ssse3", X86.HasSSSE3},
		{"sse4.1", X86.HasSSE41}, {"avx", X86.HasAVX}, {"avx2", X86.HasAVX2},
		{"bmi2", X86.HasBMI2}, {"adx", X86.HasADX}, {"vaes", X86.HasVAES},
		{"vpclmulqdq", X86.HasVPCLMULQDQ}, {"avx512", X86.HasAVX512},
		{"avx512ifma", X86.HasAVX512IFMA}, {"avx512vbmi", X86.HasAVX512VBMI},
	} {
		if f.on {
			out = append(out, f.name)
		}
	}
	return out
}
