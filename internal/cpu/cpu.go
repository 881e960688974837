// Package cpu reports the CPU features atrest's implementations dispatch on,
// for every GOARCH, and the CPU class (vendor, family and model) that the
// dispatch tables of cbc and aead have measured rows for.
//
// The flags are read once at start from golang.org/x/sys/cpu, completed on
// amd64 with CPUID where x/sys lacks a bit (x/sys reports VAES and VPCLMULQDQ
// only when AVX-512 is usable, but both exist with 256-bit registers on
// AVX2-only CPUs, and x/sys has no vendor, family or model), and then lowered
// by the off-switches in GODEBUG:
//
//	GODEBUG=atrestasm=0      no hardware path at all (neither atrest's assembly nor the
//	                         standard library's AES): every package takes its generic path
//	GODEBUG=atrestavx512=0   no AVX-512 (zmm) kernels
//	GODEBUG=atrestvaes=0     no VAES or VPCLMULQDQ kernels
//
// x/sys/cpu also honours the runtime's GODEBUG=cpu.<feature>=off settings
// (for example cpu.aes=off), which lower the same flags.
//
// Built with the purego tag every flag is false and the class is Unmeasured.
package cpu

import (
	"fmt"
	"os"
	"strings"
)

// X86 holds the features of the running amd64 CPU that the operating system
// has enabled, after the GODEBUG off-switches, and its CPUID identity. It is
// zero on other architectures (386 included: crypto/aes has no AES-NI code
// there). Packages read it once at init time; tests use internal/impl to
// force a path instead of writing here.
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

	Vendor string // CPUID vendor string, e.g. "AuthenticAMD", "GenuineIntel"
	Family uint32 // display family (base family plus extended family)
	Model  uint32 // display model (with the extended model bits)
}

// ARM64 holds the features of the running arm64 CPU that the standard
// library's AES and GCM use.
var ARM64 struct {
	HasAES   bool // AESE, AESD, AESMC, AESIMC
	HasPMULL bool // 64x64→128-bit polynomial multiply (GHASH)
}

// S390X holds the CPACF functions of the running s390x CPU that the standard
// library's AES, CBC and GCM use.
var S390X struct {
	HasAES    bool // KM-AES
	HasAESCBC bool // KMC-AES
	HasAESCTR bool // KMCTR-AES
	HasAESGCM bool // KMA-GCM-AES
	HasGHASH  bool // KIMD-GHASH
}

// PPC64 holds what the standard library's AES and GCM need on ppc64 and
// ppc64le: ISA 2.07 (POWER8) vector crypto, which every CPU Go supports there
// has.
var PPC64 struct {
	IsPOWER8 bool
}

// Stdlib says where the standard library's AES runs on the CPU's AES
// instructions, which makes crypto/aes and crypto/cipher's CBC and GCM
// constant-time and fast. Without them crypto/aes uses lookup tables (its key
// schedule and rounds leak timing; ctcheck measures it) and atrest never calls
// it. The conditions are the standard library's own (crypto/internal/fips140/aes
// and aes/gcm), read from x/sys/cpu, after the GODEBUG off-switches:
//
//	amd64    AES-NI, SSE4.1 and SSSE3 (GCM: and PCLMULQDQ)
//	arm64    the AES instructions (GCM: and PMULL)
//	s390x    KM-AES and KMC-AES (GCM: KMCTR-AES and KIMD-GHASH)
//	ppc64x   POWER8
//
// Other architectures (386 included) and the purego build have neither.
var Stdlib struct {
	AES bool // crypto/aes, and so crypto/cipher's CBC modes over it
	GCM bool // crypto/cipher's GCM over crypto/aes
}

// A Class is a group of CPUs that the dispatch tables of cbc and aead have
// measured rows for (see internal/impl). Every CPU outside the listed
// classes is Unmeasured and takes the standard library's path.
type Class uint8

const (
	// Unmeasured is every CPU without rows of its own: other vendors, other
	// families and models, every non-amd64 CPU, and the purego build.
	Unmeasured Class = iota
	// AMDZen5 is AMD family 26 (0x1A) model 2: EPYC 9005 "Turin" (Zen 5).
	AMDZen5
	// IntelEmeraldRapids is Intel family 6 model 207 (0xCF): 5th generation
	// Xeon Scalable "Emerald Rapids".
	IntelEmeraldRapids
)

// classes lists the CPUs of each class by CPUID vendor, family and model.
// A class covers only the models measured on (results/ holds the runs); a
// contributor who measures another model adds its line here and its rows
// to the tables, as docs/implementations.md describes.
var classes = []struct {
	vendor        string
	family, model uint32
	class         Class
}{
	{"AuthenticAMD", 0x1a, 0x02, AMDZen5},
	{"GenuineIntel", 0x06, 0xcf, IntelEmeraldRapids},
}

var classNames = [...]string{
	Unmeasured:         "unmeasured",
	AMDZen5:            "amd-zen5",
	IntelEmeraldRapids: "intel-emerald-rapids",
}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", uint8(c))
}

// This is the class of the running CPU.
var This Class

// Debug holds the GODEBUG off-switches that were applied, for reports.
var Debug []string

func init() {
	detect()
	applyGODEBUG(os.Getenv("GODEBUG"))
	derive()
}

// derive sets Stdlib and This from the per-architecture flags.
func derive() {
	x := &X86
	Stdlib.AES = x.HasAES && x.HasSSE41 && x.HasSSSE3 ||
		ARM64.HasAES ||
		S390X.HasAES && S390X.HasAESCBC ||
		PPC64.IsPOWER8
	Stdlib.GCM = x.HasAES && x.HasSSE41 && x.HasSSSE3 && x.HasPCLMULQDQ ||
		ARM64.HasAES && ARM64.HasPMULL ||
		S390X.HasAES && S390X.HasAESCTR && S390X.HasGHASH ||
		PPC64.IsPOWER8
	This = classOf(x.Vendor, x.Family, x.Model)
}

func classOf(vendor string, family, model uint32) Class {
	for _, c := range classes {
		if c.vendor == vendor && c.family == family && c.model == model {
			return c.class
		}
	}
	return Unmeasured
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
			x := &X86
			x.HasAES, x.HasPCLMULQDQ, x.HasSSSE3, x.HasSSE41, x.HasAVX, x.HasAVX2 = false, false, false, false, false, false
			x.HasBMI2, x.HasADX, x.HasVAES, x.HasVPCLMULQDQ = false, false, false, false
			x.HasAVX512, x.HasAVX512IFMA, x.HasAVX512VBMI = false, false, false
			ARM64.HasAES, ARM64.HasPMULL = false, false
			S390X.HasAES, S390X.HasAESCBC, S390X.HasAESCTR, S390X.HasAESGCM, S390X.HasGHASH = false, false, false, false, false
			PPC64.IsPOWER8 = false
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
		{"arm64-aes", ARM64.HasAES}, {"arm64-pmull", ARM64.HasPMULL},
		{"s390x-aes", S390X.HasAES}, {"s390x-aescbc", S390X.HasAESCBC},
		{"s390x-aesctr", S390X.HasAESCTR}, {"s390x-aesgcm", S390X.HasAESGCM},
		{"s390x-ghash", S390X.HasGHASH}, {"power8", PPC64.IsPOWER8},
	} {
		if f.on {
			out = append(out, f.name)
		}
	}
	return out
}

// Identity describes the CPU for configuration lines: vendor, family and
// model on amd64 (in decimal, as /proc/cpuinfo prints them), and the class.
func Identity() string {
	if X86.Vendor == "" {
		return "class=" + This.String()
	}
	return fmt.Sprintf("vendor=%s family=%d model=%d class=%s", X86.Vendor, X86.Family, X86.Model, This)
}

func le32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

// familyModel decodes the display family and model from CPUID leaf 1's EAX
// as the vendors' manuals define them: the extended family is added when the
// base family is 15, and the extended model prepended when it is 6 or 15.
func familyModel(eax, _, _, _ uint32) (family, model uint32) {
	family = eax >> 8 & 0xf
	model = eax >> 4 & 0xf
	if family == 0xf {
		family += eax >> 20 & 0xff
	}
	if family == 0x6 || family >= 0xf {
		model |= (eax >> 16 & 0xf) << 4
	}
	return family, model
}
