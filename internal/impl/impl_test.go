package impl

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/internal/cpu"
)

const (
	pA Path = iota + 1
	pB
	pC
)

func TestSelect(t *testing.T) {
	var plan Plan
	Register("test", "A", pA, true)
	Register("test", "B", pB, false)
	Register("test", "C", pC, true)
	Dispatch("test", pC, Op{"op", &plan})
	if got, want := List("test"), []string{"A", "C", Generic}; !slices.Equal(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	// No rows: the fallback everywhere.
	if p := plan.Pick(0); p != pC || plan.Pick(1<<30) != pC {
		t.Fatalf("fallback plan picks %d", p)
	}
	if Select("test", "B") || Select("test", "nosuch") {
		t.Fatal("selected an unavailable implementation")
	}
	if plan.Pick(5) != pC {
		t.Fatal("a failed Select changed the plan")
	}
	if !Select("test", "A") || plan.Pick(0) != pA || plan.Pick(math.MaxInt) != pA {
		t.Fatal("Select A did not force A")
	}
	if got := Describe("test"); got != "A (forced)" {
		t.Fatalf("Describe = %q", got)
	}
	if !Select("test", Generic) || plan.Pick(100) != 0 {
		t.Fatal("Select generic left a path on")
	}
	Reset("test")
	if plan.Pick(7) != pC || Describe("test") != "C" {
		t.Fatalf("Reset: %d, %q", plan.Pick(7), Describe("test"))
	}
	var seen []string
	Each("test", func(name string) {
		seen = append(seen, name)
		if got := Uses("test"); !slices.Equal(got, []string{name}) {
			t.Errorf("Each(%s): Uses = %v", name, got)
		}
	})
	if !slices.Equal(seen, List("test")) || plan.Pick(0) != pC {
		t.Fatalf("Each visited %v and left the plan at %d", seen, plan.Pick(0))
	}
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate registration did not panic")
		}
	}()
	Register("test", "A", 9, true)
}

// TestTable builds plans from rows for this CPU's class and another one.
func TestTable(t *testing.T) {
	var seal, open Plan
	here := cpu.This
	other := cpu.IntelEmeraldRapids
	if here == other {
		other = cpu.AMDZen5
	}
	Register("tbl", "fast", pA, true)
	Register("tbl", "missing", pB, false)
	Register("tbl", "std", pC, true)
	Rows("tbl", []Row{
		{here, "seal", 0, pC},
		{here, "seal", 64, pB}, // unavailable: the range continues with std
		{here, "seal", 64, pA}, // its alternative
		{here, "seal", 4096, pC},
		{here, "open", 0, pB},
		{here, "open", 0, pA},
		{other, "seal", 0, pA},
	})
	Dispatch("tbl", pC, Op{"seal", &seal}, Op{"open", &open})
	for _, c := range []struct {
		plan *Plan
		n    int
		want Path
	}{
		{&seal, 0, pC}, {&seal, 63, pC}, {&seal, 64, pA}, {&seal, 4095, pA}, {&seal, 4096, pC}, {&seal, math.MaxInt, pC},
		{&open, 0, pA}, {&open, 1 << 20, pA},
	} {
		if got := c.plan.Pick(c.n); got != c.want {
			t.Errorf("Pick(%d) = %d, want %d", c.n, got, c.want)
		}
	}
	want := "seal: std, fast from 64 B, std from 4096 B; open: fast"
	if got := Describe("tbl"); got != want {
		t.Errorf("Describe = %q\nwant       %q", got, want)
	}
	if got := Uses("tbl"); !slices.Equal(got, []string{"fast", "std"}) {
		t.Errorf("Uses = %v", got)
	}

	// A class without rows takes the fallback; an unavailable fallback is generic.
	s := registry["tbl"]
	if p := s.auto(cpu.Class(200), "seal"); p.Pick(0) != pC || p.Pick(1<<30) != pC {
		t.Error("unmeasured class does not take the fallback")
	}
	s.fallback = pB
	if p := s.auto(cpu.Class(200), "seal"); p.Pick(10) != 0 {
		t.Error("unavailable fallback: not generic")
	}
}

func TestTableErrors(t *testing.T) {
	mustPanic := func(name string, rows []Row, contains string) {
		t.Helper()
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(string), contains) {
				t.Errorf("%s: recovered %v, want a panic containing %q", name, r, contains)
			}
		}()
		var p Plan
		pkg := "err-" + name
		Register(pkg, "x", pA, true)
		Register(pkg, "y", pB, true)
		Rows(pkg, rows)
		Dispatch(pkg, 0, Op{"op", &p})
	}
	c := cpu.This
	mustPanic("gap", []Row{{c, "op", 16, pA}}, "do not start at length 0")
	mustPanic("long", []Row{{c, "op", 0, pA}, {c, "op", 1, pB}, {c, "op", 2, pA}, {c, "op", 3, pB}, {c, "op", 4, pA}}, "length ranges")
}

// BenchmarkPick measures the dispatch decision alone.
func BenchmarkPick(b *testing.B) {
	var p Plan
	Register("bench", "a", pA, true)
	Rows("bench", []Row{{cpu.This, "op", 0, pA}, {cpu.This, "op", 4096, 0}})
	Dispatch("bench", 0, Op{"op", &p})
	var sink Path
	for i := 0; b.Loop(); i++ {
		sink += p.Pick(i & 8191)
	}
	_ = sink
}
