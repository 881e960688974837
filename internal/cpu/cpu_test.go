package cpu

import (
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// procCPUInfo returns the first value of each field of /proc/cpuinfo, or
// nil where there is none. Under qemu-user it describes the host, so the
// tests below compare only fields of this GOARCH's own vocabulary.
func procCPUInfo(t *testing.T) map[string]string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo")
	}
	if strings.Contains(os.Getenv("GODEBUG"), "atrest") || strings.Contains(os.Getenv("GODEBUG"), "cpu.") {
		t.Skip("GODEBUG off-switches set")
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			k = strings.TrimSpace(k)
			if _, seen := out[k]; !seen {
				out[k] = strings.TrimSpace(v)
			}
		}
	}
	return out
}

// TestAgreesWithProcCPUInfo checks the detected flags and identity against
// the kernel's view, where the kernel publishes one.
func TestAgreesWithProcCPUInfo(t *testing.T) {
	info := procCPUInfo(t)
	if runtime.GOARCH != "amd64" {
		t.Skipf("no x86 flags to compare on %s", runtime.GOARCH)
	}
	flags, ok := info["flags"]
	if !ok {
		t.Skip("no flags line")
	}
	list := strings.Fields(flags)
	has := func(f string) bool { return slices.Contains(list, f) }
	for _, c := range []struct {
		name string
		got  bool
		want bool
	}{
		{"aes", X86.HasAES, has("aes")},
		{"pclmulqdq", X86.HasPCLMULQDQ, has("pclmulqdq")},
		{"avx2", X86.HasAVX2, has("avx2")},
		{"vaes", X86.HasVAES, has("vaes") && has("avx2")},
		{"vpclmulqdq", X86.HasVPCLMULQDQ, has("vpclmulqdq") && has("avx2")},
		{"avx512ifma", X86.HasAVX512IFMA, has("avx512ifma") && has("avx512f") && has("avx512bw") && has("avx512vl") && has("avx512dq")},
		{"stdlib-aes", Stdlib.AES, has("aes") && has("sse4_1") && has("ssse3")},
		{"stdlib-gcm", Stdlib.GCM, has("aes") && has("sse4_1") && has("ssse3") && has("pclmulqdq")},
	} {
		if !purego() && c.got != c.want {
			t.Errorf("%s: detected %v, /proc/cpuinfo says %v", c.name, c.got, c.want)
		}
		if purego() && c.got {
			t.Errorf("%s: set under the purego tag", c.name)
		}
	}
	if !purego() {
		if X86.Vendor != info["vendor_id"] {
			t.Errorf("vendor %q, /proc/cpuinfo says %q", X86.Vendor, info["vendor_id"])
		}
		if f := strconv.FormatUint(uint64(X86.Family), 10); f != info["cpu family"] {
			t.Errorf("family %s, /proc/cpuinfo says %s", f, info["cpu family"])
		}
		if m := strconv.FormatUint(uint64(X86.Model), 10); m != info["model"] {
			t.Errorf("model %s, /proc/cpuinfo says %s", m, info["model"])
		}
	}
	t.Logf("features: %v; %s", Features(), Identity())
}

// TestAgreesWithProcCPUInfoARM64 compares the arm64 flags with the kernel's
// Features line (absent under qemu-user, which shows the host's file).
func TestAgreesWithProcCPUInfoARM64(t *testing.T) {
	info := procCPUInfo(t)
	if runtime.GOARCH != "arm64" {
		t.Skip("not arm64")
	}
	feats, ok := info["Features"]
	if !ok {
		t.Skip("no Features line (qemu-user shows the host's /proc/cpuinfo)")
	}
	list := strings.Fields(feats)
	want := slices.Contains(list, "aes") && slices.Contains(list, "pmull") && !purego()
	if got := ARM64.HasAES && ARM64.HasPMULL; got != want {
		t.Errorf("aes+pmull detected %v, /proc/cpuinfo says %v", got, want)
	}
}

func TestFamilyModel(t *testing.T) {
	for _, c := range []struct {
		eax           uint32
		family, model uint32
	}{
		{0x00b00f21, 26, 2},   // AMD EPYC 9005 (Turin)
		{0x00a10f11, 25, 17},  // AMD EPYC 9004 (Genoa)
		{0x000c06f2, 6, 207},  // Intel Xeon (Emerald Rapids)
		{0x000806f8, 6, 143},  // Intel Xeon (Sapphire Rapids)
		{0x00000f41, 15, 4},   // Pentium 4: family 15, no extension
		{0x00000633, 6, 3},    // Pentium II
		{0x00100f42, 16, 4},   // AMD family 10h
		{0x00000543, 5, 4},    // no extended model below family 6
		{0x00050654, 6, 0x55}, // Skylake-SP
	} {
		if f, m := familyModel(c.eax, 0, 0, 0); f != c.family || m != c.model {
			t.Errorf("familyModel(%#x) = %d, %d; want %d, %d", c.eax, f, m, c.family, c.model)
		}
	}
}

func TestClassOf(t *testing.T) {
	for _, c := range []struct {
		vendor        string
		family, model uint32
		want          Class
	}{
		{"AuthenticAMD", 26, 2, AMDZen5},
		{"AuthenticAMD", 26, 0x44, Unmeasured}, // a Zen 5 desktop part: not measured
		{"AuthenticAMD", 25, 17, Unmeasured},   // Zen 4
		{"GenuineIntel", 6, 207, IntelEmeraldRapids},
		{"GenuineIntel", 6, 143, Unmeasured}, // Sapphire Rapids: not measured
		{"HygonGenuine", 24, 2, Unmeasured},
		{"", 0, 0, Unmeasured},
	} {
		if got := classOf(c.vendor, c.family, c.model); got != c.want {
			t.Errorf("classOf(%q, %d, %d) = %v, want %v", c.vendor, c.family, c.model, got, c.want)
		}
	}
	if purego() && This != Unmeasured {
		t.Errorf("class %v under the purego tag", This)
	}
	t.Logf("this CPU: %s", Identity())
}

// TestStdlibFlags checks derive against the standard library's conditions,
// one architecture at a time.
func TestStdlibFlags(t *testing.T) {
	x86, arm64, s390x, ppc64, stdlib, this := X86, ARM64, S390X, PPC64, Stdlib, This
	defer func() { X86, ARM64, S390X, PPC64, Stdlib, This = x86, arm64, s390x, ppc64, stdlib, this }()
	type want struct{ aes, gcm bool }
	for _, c := range []struct {
		name string
		set  func()
		want want
	}{
		{"none", func() {}, want{}},
		{"amd64 aes-ni", func() { X86.HasAES, X86.HasSSE41, X86.HasSSSE3 = true, true, true }, want{true, false}},
		{"amd64 aes-ni+pclmul", func() { X86.HasAES, X86.HasSSE41, X86.HasSSSE3, X86.HasPCLMULQDQ = true, true, true, true }, want{true, true}},
		{"amd64 no sse4.1", func() { X86.HasAES, X86.HasSSSE3, X86.HasPCLMULQDQ = true, true, true }, want{}},
		{"arm64 aes", func() { ARM64.HasAES = true }, want{true, false}},
		{"arm64 aes+pmull", func() { ARM64.HasAES, ARM64.HasPMULL = true, true }, want{true, true}},
		{"s390x km only", func() { S390X.HasAES = true }, want{}},
		{"s390x km+kmc", func() { S390X.HasAES, S390X.HasAESCBC = true, true }, want{true, false}},
		{"s390x all", func() {
			S390X.HasAES, S390X.HasAESCBC, S390X.HasAESCTR, S390X.HasGHASH, S390X.HasAESGCM = true, true, true, true, true
		}, want{true, true}},
		{"power8", func() { PPC64.IsPOWER8 = true }, want{true, true}},
	} {
		for _, p := range []any{&X86, &ARM64, &S390X, &PPC64} {
			reflect.ValueOf(p).Elem().SetZero()
		}
		c.set()
		derive()
		if got := (want{Stdlib.AES, Stdlib.GCM}); got != c.want {
			t.Errorf("%s: Stdlib = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestGODEBUG(t *testing.T) {
	x86, arm64, s390x, ppc64 := X86, ARM64, S390X, PPC64
	defer func() { X86, ARM64, S390X, PPC64, Debug = x86, arm64, s390x, ppc64, nil }()
	X86.HasAVX512, X86.HasVAES, X86.HasAES, X86.Vendor = true, true, true, "GenuineIntel"
	ARM64.HasAES, S390X.HasAES, PPC64.IsPOWER8 = true, true, true
	applyGODEBUG("foo=1,atrestavx512=0, atrestvaes=0")
	if X86.HasAVX512 || X86.HasVAES || !X86.HasAES {
		t.Fatalf("off-switches not applied: %+v", X86)
	}
	applyGODEBUG("atrestasm=0")
	if X86.HasAES || ARM64.HasAES || S390X.HasAES || PPC64.IsPOWER8 {
		t.Fatal("atrestasm=0 left a hardware flag on")
	}
	if X86.Vendor != "GenuineIntel" {
		t.Fatal("atrestasm=0 cleared the CPU identity")
	}
	if want := []string{"atrestavx512=0", "atrestvaes=0", "atrestasm=0"}; !slices.Equal(Debug, want) {
		t.Fatalf("Debug = %v, want %v", Debug, want)
	}
}
