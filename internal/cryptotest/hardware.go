package cryptotest

import (
	"os"
	"runtime"
	"strings"

	xcpu "golang.org/x/sys/cpu"
)

// HardwareAES and HardwareGCM are the oracles of CheckGenericIsExpected:
// whether the running CPU and build give the standard library's AES (and
// its GCM) their hardware paths. They read golang.org/x/sys/cpu directly
// with the standard library's conditions and deliberately share no code
// with internal/cpu, whose detection they check.
func HardwareAES() bool {
	if purego || strings.Contains(os.Getenv("GODEBUG"), "atrestasm=0") {
		return false
	}
	switch runtime.GOARCH {
	case "amd64":
		return xcpu.X86.HasAES && xcpu.X86.HasSSE41 && xcpu.X86.HasSSSE3
	case "arm64":
		return xcpu.ARM64.HasAES
	case "s390x":
		return xcpu.S390X.HasAES && xcpu.S390X.HasAESCBC
	case "ppc64", "ppc64le":
		return xcpu.PPC64.IsPOWER8
	}
	return false
}

// HardwareGCM: see HardwareAES.
func HardwareGCM() bool {
	if !HardwareAES() {
		return false
	}
	switch runtime.GOARCH {
	case "amd64":
		return xcpu.X86.HasPCLMULQDQ
	case "arm64":
		return xcpu.ARM64.HasPMULL
	case "s390x":
		return xcpu.S390X.HasAESCTR && xcpu.S390X.HasGHASH
	}
	return true // ppc64x: POWER8
}
