//go:build !purego

package cpu

import "golang.org/x/sys/cpu"

//go:generate sh -c "cd _asm && go run . -out ../cpu_amd64.s -stubs ../cpu_stubs_amd64.go -pkg cpu"

func detect() {
	x := &cpu.X86
	X86.HasAES = x.HasAES
	X86.HasPCLMULQDQ = x.HasPCLMULQDQ
	X86.HasSSSE3 = x.HasSSSE3
	X86.HasSSE41 = x.HasSSE41
	X86.HasAVX = x.HasAVX
	X86.HasAVX2 = x.HasAVX2
	X86.HasBMI2 = x.HasBMI2
	X86.HasADX = x.HasADX
	X86.HasAVX512 = x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512DQ
	X86.HasAVX512IFMA = X86.HasAVX512 && x.HasAVX512IFMA
	X86.HasAVX512VBMI = X86.HasAVX512 && x.HasAVX512VBMI

	maxLeaf, b0, c0, d0 := cpuid(0, 0)
	X86.Vendor = string(le32(b0)) + string(le32(d0)) + string(le32(c0))
	if maxLeaf >= 1 {
		X86.Family, X86.Model = familyModel(cpuid(1, 0))
	}
	// x/sys/cpu sets VAES and VPCLMULQDQ only inside its AVX-512 block.
	// Both are defined for ymm registers with plain AVX, so ask CPUID.
	if maxLeaf >= 7 && X86.HasAVX {
		_, _, ecx7, _ := cpuid(7, 0)
		X86.HasVAES = ecx7&(1<<9) != 0 && X86.HasAES
		X86.HasVPCLMULQDQ = ecx7&(1<<10) != 0 && X86.HasPCLMULQDQ
	}
	// The OS must save ymm state for either to be usable (x/sys's HasAVX checks XCR0).
	if !X86.HasAVX2 {
		X86.HasVAES, X86.HasVPCLMULQDQ = false, false
	}
}
