// Package impl is a registry of the hardware implementations that atrest's
// packages choose between at run time, so tests and benchmarks can list them
// and force each one in turn, portable path included.
//
// A package registers each hot path with the flag that enables it:
//
//	var useVAES = cpu.X86.HasVAES && cpu.X86.HasAVX512
//	func init() { impl.Register("cbc", "VAES-512", &useVAES) }
//
// and consults the flag on every call. Select turns one on and the package's
// others off; Reset restores what the CPU detection said.
package impl

import (
	"slices"
	"sync"
)

// Portable is the name Select takes for a package's portable (pure Go) path.
const Portable = "portable"

type entry struct {
	name      string
	available bool // as detected at registration
	flag      *bool
}

var (
	mu       sync.Mutex
	registry = map[string][]entry{}
)

// Register records implementation name of package pkg, enabled through *flag.
// The value of *flag at registration is taken as its availability on this
// CPU. Register is meant for init functions; names must be unique per package.
func Register(pkg, name string, flag *bool) {
	mu.Lock()
	defer mu.Unlock()
	for _, e := range registry[pkg] {
		if e.name == name {
			panic("impl: " + pkg + "/" + name + " registered twice")
		}
	}
	registry[pkg] = append(registry[pkg], entry{name, *flag, flag})
}

// List returns the implementations of pkg that this CPU can run, in
// registration order, followed by Portable.
func List(pkg string) []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for _, e := range registry[pkg] {
		if e.available {
			out = append(out, e.name)
		}
	}
	return append(out, Portable)
}

// Packages returns the names of the packages that registered anything.
func Packages() []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for p := range registry {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Active returns the name of the implementation pkg uses now: the first
// enabled one in registration order, or Portable.
func Active(pkg string) string {
	mu.Lock()
	defer mu.Unlock()
	for _, e := range registry[pkg] {
		if *e.flag {
			return e.name
		}
	}
	return Portable
}

// Select enables only implementation name of pkg (Portable disables all of
// them) and reports whether this CPU can run it; if it cannot, nothing changes.
// Select is not safe to call while pkg is in use; tests call it between runs
// and Reset afterwards.
func Select(pkg, name string) bool {
	mu.Lock()
	defer mu.Unlock()
	found := name == Portable
	for _, e := range registry[pkg] {
		if e.name == name {
			found = e.available
		}
	}
	if !found {
		return false
	}
	for _, e := range registry[pkg] {
		*e.flag = e.name == name
	}
	return true
}

// Reset restores every implementation of pkg to its detected availability.
func Reset(pkg string) {
	mu.Lock()
	defer mu.Unlock()
	for _, e := range registry[pkg] {
		*e.flag = e.available
	}
}
