// Package impl is the registry of the implementations that atrest's
// primitives (package names "cbc", "gcm", "secretbox") choose between at run
// time, and of the one dispatch table per package that decides, per CPU
// class, operation and input length, which of them runs.
//
// A package numbers its implementations (Path 0 is always Generic, the
// portable pure-Go path that every build has) and registers each other one
// with whether this CPU can run it:
//
//	impl.Register("gcm", "VAES-512", pathVAES512, cpu.X86.HasVAES && cpu.X86.HasAVX512)
//
// It registers its dispatch table and the plans the table fills, one per
// operation, and consults a plan on every call:
//
//	var sealPlan impl.Plan
//	impl.Rows("gcm", gcmTable)
//	impl.Dispatch("gcm", pathStdlib, impl.Op{Name: "seal", Plan: &sealPlan})
//	…
//	switch sealPlan.Pick(len(plaintext)) { case pathVAES512: …; case pathStdlib: …; default: generic }
//
// Pick is a few loads and compares: the plans are filled when something is
// registered, selected or reset, never on the hot path.
//
// Select forces one implementation at every length (tests and benchmarks
// measure and check each path this way); Reset returns to the table.
package impl

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/atrest-dev/atrest/internal/cpu"
)

// Generic is the name of every package's portable path, Path 0: the one that
// runs where no hardware path can, and always under the purego build tag.
const Generic = "generic"

// Path is a package's number for one of its implementations. 0 is Generic.
type Path uint8

// A Row is one line of a package's dispatch table: on CPUs of class CPU,
// operation Op takes implementation Path for inputs of Min or more (up to the
// Min of the next row of the same class and operation). Rows of the same
// CPU, Op and Min are alternatives in preference order: the first one this
// CPU can run is taken. Every class that has rows for an operation must have
// one at Min 0.
//
// Beside each row its package keeps the measurement that justifies it: the
// CPU, the command and the figures (raw runs in results/).
type Row struct {
	CPU  cpu.Class
	Op   string
	Min  int
	Path Path
}

// maxSteps is the number of length ranges a Plan can hold.
const maxSteps = 4

// A Plan is the dispatch of one operation on this CPU: the path for each
// input length. The zero Plan takes Generic at every length.
type Plan struct {
	min  [maxSteps]int  // lower bounds, descending; unused steps repeat the last (min 0)
	path [maxSteps]Path // path from min[i] on
}

// Pick returns the path for an input of n bytes (n ≥ 0).
func (p *Plan) Pick(n int) Path {
	if n >= p.min[0] {
		return p.path[0]
	}
	if n >= p.min[1] {
		return p.path[1]
	}
	if n >= p.min[2] {
		return p.path[2]
	}
	return p.path[3]
}

// Op names one operation of a package and the Plan its dispatch consults.
type Op struct {
	Name string
	Plan *Plan
}

type entry struct {
	name      string
	path      Path
	available bool
}

type pkgState struct {
	impls    []entry // registration order
	rows     []Row
	fallback Path
	ops      []Op
	forced   string // "" for automatic dispatch
}

var (
	mu       sync.Mutex
	registry = map[string]*pkgState{}
)

func state(pkg string) *pkgState {
	s := registry[pkg]
	if s == nil {
		s = &pkgState{}
		registry[pkg] = s
	}
	return s
}

// Register records implementation name of package pkg as path p, and
// whether this CPU (and build) can run it. Register is meant for init
// functions; names and paths must be unique per package, and p must not be 0.
func Register(pkg, name string, p Path, available bool) {
	mu.Lock()
	defer mu.Unlock()
	s := state(pkg)
	if p == 0 || name == Generic || name == "" || name == "auto" {
		panic("impl: " + pkg + "/" + name + ": invalid name or path")
	}
	for _, e := range s.impls {
		if e.name == name || e.path == p {
			panic("impl: " + pkg + "/" + name + " registered twice")
		}
	}
	s.impls = append(s.impls, entry{name, p, available})
	s.rebuild()
}

// Rows records pkg's dispatch table. A package without rows (a build with no
// hardware path of its own) takes its fallback everywhere.
func Rows(pkg string, rows []Row) {
	mu.Lock()
	defer mu.Unlock()
	s := state(pkg)
	s.rows = rows
	s.rebuild()
}

// Dispatch records pkg's operations and its fallback: the path of every CPU
// class without rows of its own for an operation (the standard library's
// path, the conservative choice for a CPU nobody measured), replaced by
// Generic where this CPU cannot run it.
func Dispatch(pkg string, fallback Path, ops ...Op) {
	mu.Lock()
	defer mu.Unlock()
	s := state(pkg)
	s.fallback, s.ops = fallback, ops
	s.rebuild()
}

func (s *pkgState) available(p Path) bool {
	if p == 0 {
		return true
	}
	for _, e := range s.impls {
		if e.path == p {
			return e.available
		}
	}
	return false
}

func (s *pkgState) lookup(name string) (Path, bool) {
	if name == Generic {
		return 0, true
	}
	for _, e := range s.impls {
		if e.name == name {
			return e.path, e.available
		}
	}
	return 0, false
}

func (s *pkgState) name(p Path) string {
	for _, e := range s.impls {
		if e.path == p {
			return e.name
		}
	}
	return Generic
}

// rebuild fills every plan of s: the forced path at every length, or the
// automatic plan of this CPU's class.
func (s *pkgState) rebuild() {
	for _, op := range s.ops {
		if p, ok := s.lookup(s.forced); s.forced != "" && ok {
			*op.Plan = single(p)
			continue
		}
		*op.Plan = s.auto(cpu.This, op.Name)
	}
}

func single(p Path) Plan {
	var pl Plan
	for i := range pl.path {
		pl.path[i] = p
	}
	return pl
}

type step struct {
	min  int
	path Path
}

// auto builds the plan of operation op on CPUs of class c from the table.
func (s *pkgState) auto(c cpu.Class, op string) Plan {
	fallback := s.fallback
	if !s.available(fallback) {
		fallback = 0
	}
	var rows []Row
	for _, r := range s.rows {
		if r.CPU == c && r.Op == op {
			rows = append(rows, r)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Min < rows[j].Min })
	var steps []step // ascending
	for _, r := range rows {
		if len(steps) > 0 && steps[len(steps)-1].min == r.Min || !s.available(r.Path) {
			continue // an earlier alternative won, or this CPU cannot run it
		}
		steps = append(steps, step{r.Min, r.Path})
	}
	if len(rows) > 0 && rows[0].Min != 0 {
		panic(fmt.Sprintf("impl: table rows for %v/%s do not start at length 0", c, op))
	}
	if len(steps) == 0 || steps[0].min != 0 {
		steps = append([]step{{0, fallback}}, steps...)
	}
	// Merge neighbours that take the same path.
	merged := steps[:1]
	for _, st := range steps[1:] {
		if st.path != merged[len(merged)-1].path {
			merged = append(merged, st)
		}
	}
	if len(merged) > maxSteps {
		panic(fmt.Sprintf("impl: %v/%s needs %d length ranges; a Plan holds %d", c, op, len(merged), maxSteps))
	}
	var pl Plan
	for i := range pl.min {
		st := merged[0] // the min-0 step fills the unused slots
		if i < len(merged) {
			st = merged[len(merged)-1-i]
		}
		pl.min[i], pl.path[i] = st.min, st.path
	}
	return pl
}

// List returns the implementations of pkg that this CPU can run, in
// registration order, followed by Generic.
func List(pkg string) []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for _, e := range state(pkg).impls {
		if e.available {
			out = append(out, e.name)
		}
	}
	return append(out, Generic)
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

// Select makes pkg take implementation name at every length (Generic too)
// and reports whether this CPU can run it; if it cannot, nothing changes.
// Select is not safe to call while pkg is in use; tests and benchmarks call
// it between runs and Reset afterwards.
func Select(pkg, name string) bool {
	mu.Lock()
	defer mu.Unlock()
	s := state(pkg)
	if _, ok := s.lookup(name); !ok {
		return false
	}
	s.forced = name
	s.rebuild()
	return true
}

// Reset returns pkg to automatic dispatch from its table.
func Reset(pkg string) {
	mu.Lock()
	defer mu.Unlock()
	s := state(pkg)
	s.forced = ""
	s.rebuild()
}

// Each calls f once for each implementation of pkg that this CPU can run, in
// List order (Generic last), with that one selected, and returns pkg to
// automatic dispatch when it is done (or when f panics, as t.Fatal does
// through runtime.Goexit).
func Each(pkg string, f func(name string)) {
	defer Reset(pkg)
	for _, name := range List(pkg) {
		if !Select(pkg, name) {
			panic("impl: " + pkg + "/" + name + " listed but not selectable")
		}
		f(name)
	}
}

// Uses reports the implementations pkg's operations take now at some input
// length, without repetition, in registration order (Generic last).
func Uses(pkg string) []string {
	mu.Lock()
	defer mu.Unlock()
	s := state(pkg)
	seen := map[Path]bool{}
	for _, op := range s.ops {
		for _, p := range op.Plan.path {
			seen[p] = true
		}
	}
	var out []string
	for _, e := range s.impls {
		if seen[e.path] {
			out = append(out, e.name)
		}
	}
	if seen[0] {
		out = append(out, Generic)
	}
	return out
}

// Describe says which path pkg takes now, for configuration lines and
// reports: one name when every operation takes it at every length, else per
// operation the paths and the lengths they start at, e.g.
// "seal: stdlib, VAES-512 from 4096 B; open: stdlib, VAES-512 from 4096 B".
// A forced selection is marked "(forced)".
func Describe(pkg string) string {
	mu.Lock()
	defer mu.Unlock()
	s := state(pkg)
	var parts []string
	all := ""
	same := true
	for i, op := range s.ops {
		d := s.describePlan(op.Plan)
		parts = append(parts, op.Name+": "+d)
		if i == 0 {
			all = d
		} else if d != all {
			same = false
		}
	}
	out := strings.Join(parts, "; ")
	if same && !strings.Contains(all, " ") {
		out = all
	}
	if s.forced != "" {
		out += " (forced)"
	}
	return out
}

func (s *pkgState) describePlan(p *Plan) string {
	var parts []string
	for i := maxSteps - 1; i >= 0; i-- {
		if i < maxSteps-1 && p.min[i] == p.min[i+1] {
			continue
		}
		name := s.name(p.path[i])
		if p.min[i] == 0 {
			parts = append(parts, name)
		} else {
			parts = append(parts, fmt.Sprintf("%s from %d B", name, p.min[i]))
		}
	}
	return strings.Join(parts, ", ")
}
