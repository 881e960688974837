package impl

import (
	"slices"
	"testing"
)

func TestSelect(t *testing.T) {
	a, b, c := true, false, true
	Register("test", "A", &a)
	Register("test", "B", &b)
	Register("test", "C", &c)
	if got, want := List("test"), []string{"A", "C", Portable}; !slices.Equal(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	if Active("test") != "A" {
		t.Fatalf("Active = %s", Active("test"))
	}
	if Select("test", "B") {
		t.Fatal("selected an unavailable implementation")
	}
	if !a || !c {
		t.Fatal("a failed Select changed flags")
	}
	if !Select("test", "C") || a || b || !c || Active("test") != "C" {
		t.Fatalf("Select C: a=%v b=%v c=%v", a, b, c)
	}
	if !Select("test", Portable) || a || b || c || Active("test") != Portable {
		t.Fatal("Select portable left a path on")
	}
	Reset("test")
	if !a || b || !c {
		t.Fatal("Reset did not restore detection")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate registration did not panic")
		}
	}()
	Register("test", "A", &a)
}
