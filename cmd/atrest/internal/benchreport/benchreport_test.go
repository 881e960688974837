package benchreport

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"
)

func TestParseGate(t *testing.T) {
	rules, err := ParseGate("allocs/op:5%, B/op:0.5, ns/op:10%")
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{{"allocs/op", 0.05}, {"B/op", 0.005}, {"sec/op", 0.10}}
	if len(rules) != len(want) {
		t.Fatalf("got %v", rules)
	}
	for i := range want {
		if rules[i].Unit != want[i].Unit || abs(rules[i].Max-want[i].Max) > 1e-12 {
			t.Errorf("rule %d = %v, want %v", i, rules[i], want[i])
		}
	}
	for _, bad := range []string{"", "allocs/op", ":5%", "allocs/op:x", "allocs/op:-1%", "allocs/op:NaN"} {
		if _, err := ParseGate(bad); !errors.Is(err, ErrGateSpec) {
			t.Errorf("ParseGate(%q) error = %v, want ErrGateSpec", bad, err)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestParseSize(t *testing.T) {
	for s, want := range map[string]int{"256B": 256, "1KiB": 1024, "64KiB": 65536, "1MiB": 1 << 20, "1GiB": 1 << 30, "x": 0, "KiB": 0, "-1B": 0} {
		if got, _ := parseSize(s); got != want {
			t.Errorf("parseSize(%q) = %d, want %d", s, got, want)
		}
	}
}

// Read returns the lines that are not results as warnings, in order, and
// ErrNoResults when nothing else is left.
func TestReadWarnings(t *testing.T) {
	dir := t.TempDir()
	good := "BenchmarkX-2 10 5 ns/op\n"
	p := filepath.Join(dir, "mixed.txt")
	if err := os.WriteFile(p, []byte("BenchmarkX-2 10 abc ns/op\n"+good+"BenchmarkY-2 12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, warns, err := Read(p)
	if err != nil || s == nil || len(s.Results) != 1 || len(warns) != 2 {
		t.Fatalf("Read: %v, %d warnings: %v", err, len(warns), warns)
	}
	for i, line := range []int{1, 3} {
		if se, ok := warns[i].(*benchfmt.SyntaxError); !ok || se.Line != line {
			t.Errorf("warning %d: %#v, want a syntax error on line %d", i, warns[i], line)
		}
	}
	if err := os.WriteFile(p, []byte("BenchmarkY-2 12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, warns, err := Read(p); !errors.Is(err, ErrNoResults) || s != nil || len(warns) != 1 {
		t.Errorf("no results: %v, %v, %v", s, warns, err)
	}
}

func TestRuleString(t *testing.T) {
	rules, err := ParseGate("allocs/op:5%, ns/op:12.5")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rules {
		got = append(got, r.String())
	}
	if s := strings.Join(got, ","); s != "allocs/op:5%,sec/op:12.5%" {
		t.Errorf("rules print as %q", s)
	}
}

// write writes a results file with one line per value of each benchmark.
func write(t *testing.T, name string, lines map[string][]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("goos: linux\n")
	for bench, vals := range lines {
		for _, v := range vals {
			b.WriteString("Benchmark" + bench + "-2 1000 " + v + "\n")
		}
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gate(t *testing.T, spec string, old, new map[string][]string) []Regression {
	t.Helper()
	s, warns, err := Read(write(t, "old.txt", old), write(t, "new.txt", new))
	if err != nil || warns != nil {
		t.Fatal(err, warns)
	}
	rep, err := Build(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ParseGate(spec)
	if err != nil {
		t.Fatal(err)
	}
	regs, err := rep.Gate(rules)
	if err != nil {
		t.Fatal(err)
	}
	return regs
}

func TestGate(t *testing.T) {
	three := func(v string) []string { return []string{v, v, v} }
	// Deterministic metrics over three runs: any increase past the threshold
	// fails although a rank test could not reach p < 0.05 with n=3.
	regs := gate(t, "allocs/op:5%,B/op:5%",
		map[string][]string{"A": three("100 ns/op 64 B/op 1 allocs/op"), "B": three("100 ns/op 100 B/op 2 allocs/op")},
		map[string][]string{"A": three("100 ns/op 64 B/op 2 allocs/op"), "B": three("100 ns/op 104 B/op 2 allocs/op")})
	if len(regs) != 1 || regs[0].Row != "A-2" || regs[0].Unit != "allocs/op" || !regs[0].Exact {
		t.Errorf("regressions = %v, want A's allocs/op only (B's B/op grew 4%%, within 5%%)", regs)
	}
	// A decrease never fails; a threshold of 0% fails on any exact increase.
	regs = gate(t, "allocs/op:0%,B/op:0%",
		map[string][]string{"A": three("100 ns/op 64 B/op 2 allocs/op")},
		map[string][]string{"A": three("100 ns/op 65 B/op 1 allocs/op")})
	if len(regs) != 1 || regs[0].Unit != "B/op" {
		t.Errorf("regressions = %v, want B/op only", regs)
	}
	// Noisy metrics need p < alpha: a 30% slowdown over three overlapping
	// runs is not significant, over six separated runs it is.
	noisy := map[string][]string{"A": {"100 ns/op", "130 ns/op", "90 ns/op"}}
	if regs := gate(t, "sec/op:5%", noisy, map[string][]string{"A": {"130 ns/op", "125 ns/op", "95 ns/op"}}); len(regs) != 0 {
		t.Errorf("not significant, yet %v", regs)
	}
	six := func(base int, unit string) []string {
		var out []string
		for i := range 6 {
			out = append(out, strconv.Itoa(base+i)+" "+unit)
		}
		return out
	}
	if regs := gate(t, "sec/op:5%", map[string][]string{"A": six(100, "ns/op")}, map[string][]string{"A": six(130, "ns/op")}); len(regs) != 1 || regs[0].P >= 0.05 {
		t.Errorf("30%% slower with p<0.05 should fail: %v", regs)
	}
	// Higher-is-better units regress downwards.
	if regs := gate(t, "B/s:5%", map[string][]string{"A": six(100, "MB/s")}, map[string][]string{"A": six(130, "MB/s")}); len(regs) != 0 {
		t.Errorf("B/s rose, yet %v", regs)
	}
	if regs := gate(t, "B/s:5%", map[string][]string{"A": six(130, "MB/s")}, map[string][]string{"A": six(100, "MB/s")}); len(regs) != 1 {
		t.Errorf("B/s fell 23%%, yet %v", regs)
	}
}
