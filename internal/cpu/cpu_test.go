package cpu

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestAgreesWithProcCPUInfo checks the detected flags against the kernel's
// view, where the kernel publishes one.
func TestAgreesWithProcCPUInfo(t *testing.T) {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo")
	}
	if strings.Contains(os.Getenv("GODEBUG"), "atrest") {
		t.Skip("GODEBUG off-switches set")
	}
	var flags []string
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "flags" {
			flags = strings.Fields(v)
			break
		}
	}
	if flags == nil {
		t.Skip("no flags line")
	}
	has := func(f string) bool { return slices.Contains(flags, f) }
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
	} {
		if !purego() && c.got != c.want {
			t.Errorf("%s: detected %v, /proc/cpuinfo says %v", c.name, c.got, c.want)
		}
		if purego() && c.got {
			t.Errorf("%s: set under the purego tag", c.name)
		}
	}
	t.Logf("features: %v", Features())
}

func TestGODEBUG(t *testing.T) {
	saved := X86
	defer func() { X86 = saved; Debug = nil }()
	X86.HasAVX512, X86.HasVAES, X86.HasAES = true, true, true
	applyGODEBUG("foo=1,atrestavx512=0, atrestvaes=0")
	if X86.HasAVX512 || X86.HasVAES || !X86.HasAES {
		t.Fatalf("off-switches not applied: %+v", X86)
	}
	applyGODEBUG("atrestasm=0")
	if X86.HasAES {
		t.Fatal("atrestasm=0 left AES on")
	}
	if want := []string{"atrestavx512=0", "atrestvaes=0", "atrestasm=0"}; !slices.Equal(Debug, want) {
		t.Fatalf("Debug = %v, want %v", Debug, want)
	}
}
