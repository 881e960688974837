package bench

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/atrest-dev/atrest/internal/cryptotest"
	"github.com/atrest-dev/atrest/internal/impl"
)

// The matrix's axes. Names follow benchstat's key=value convention so that
// "-col /impl -row /provider,/op,/size" projections work on the results.
var (
	providers = []string{"aescbc", "aesgcm", "secretbox", "identity"}
	ops       = []string{"encrypt", "decrypt"}
	impls     = []string{"atrest", "kubernetes", "stdlib", "generic"}
	sizes     = []size{{"256B", 256}, {"1KiB", 1 << 10}, {"4KiB", 4 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}

	// The concurrent variant and the rotation case run a subset.
	parallelSizes = []size{{"4KiB", 4 << 10}, {"64KiB", 64 << 10}}
	rotationSizes = []size{{"4KiB", 4 << 10}}
	rotationProvs = []string{"aescbc", "aesgcm", "secretbox"}
	rotationOps   = []string{"decrypt"}
)

type size struct {
	name string
	n    int
}

// cell is one leaf of the matrix.
type cell struct {
	top      string // BenchmarkTransform, BenchmarkTransformParallel, BenchmarkRotation
	provider string
	op       string
	size     size
	impl     string
	path     string // BenchmarkPaths only: the forced implementation of the provider's package
}

func (c cell) sub() string {
	if c.path != "" {
		return fmt.Sprintf("provider=%s/op=%s/size=%s/path=%s/impl=%s", c.provider, c.op, c.size.name, c.path, c.impl)
	}
	return fmt.Sprintf("provider=%s/op=%s/size=%s/impl=%s", c.provider, c.op, c.size.name, c.impl)
}

func (c cell) name() string { return c.top + "/" + c.sub() }

func cells(top string, provs, ops []string, sizes []size) []cell {
	var out []cell
	for _, p := range provs {
		for _, o := range ops {
			for _, s := range sizes {
				for _, i := range impls {
					out = append(out, cell{top: top, provider: p, op: o, size: s, impl: i})
				}
			}
		}
	}
	return out
}

// matrix lists every leaf benchmark in the order the benchmarks run them.
func matrix() []cell {
	var out []cell
	out = append(out, cells("BenchmarkTransform", providers, ops, sizes)...)
	out = append(out, kmsCells("BenchmarkTransform", sizes)...)
	out = append(out, cells("BenchmarkTransformParallel", providers, ops, parallelSizes)...)
	out = append(out, cells("BenchmarkRotation", rotationProvs, rotationOps, rotationSizes)...)
	out = append(out, pathCells()...)
	return out
}

func BenchmarkTransform(b *testing.B) {
	for _, c := range cells("BenchmarkTransform", providers, ops, sizes) {
		b.Run(c.sub(), func(b *testing.B) { runSerial(b, c, 1) })
	}
	for _, c := range kmsCells("BenchmarkTransform", sizes) {
		b.Run(c.sub(), func(b *testing.B) { runSerial(b, c, 1) })
	}
}

func BenchmarkTransformParallel(b *testing.B) {
	for _, c := range cells("BenchmarkTransformParallel", providers, ops, parallelSizes) {
		b.Run(c.sub(), func(b *testing.B) { runParallel(b, c) })
	}
}

// BenchmarkRotation decrypts a value written under the second key of a
// two-key chain: the read path after a key rotation, before the rewrite.
func BenchmarkRotation(b *testing.B) {
	for _, c := range cells("BenchmarkRotation", rotationProvs, rotationOps, rotationSizes) {
		b.Run(c.sub(), func(b *testing.B) { runSerial(b, c, 2) })
	}
}

// forceGeneric switches every registered package to its generic path for
// impl=generic and returns to automatic dispatch when the benchmark ends.
func forceGeneric(tb testing.TB, c cell) {
	if c.impl != impl.Generic {
		return
	}
	for _, pkg := range impl.Packages() {
		cryptotest.Use(tb, pkg, impl.Generic)
	}
}

// setup builds the cell's transformer over a chain of nkeys keys, a
// plaintext and, for decrypt, the stored value to read: written by the
// kubernetes transformer (with the last key of the chain when nkeys > 1), so
// every run also checks that the implementation reads what the apiserver
// writes. The returned op writes into dst and returns the result.
func setup(tb testing.TB, c cell, nkeys int) (op func(dst []byte) ([]byte, error), pt []byte) {
	tb.Helper()
	if c.provider == kmsProvider {
		return setupKMS(tb, c)
	}
	ks := keys(c.provider, nkeys)
	tr, err := newTransformer(c.impl, c.provider, ks)
	if err != nil {
		tb.Fatal(err)
	}
	pt = make([]byte, c.size.n)
	rand.Read(pt)
	if c.provider == "identity" {
		pt[0] = '{' // identity refuses values that look encrypted
	}
	writer, err := newKube(c.provider, ks[nkeys-1:])
	if err != nil {
		tb.Fatal(err)
	}
	stored, err := writer.encrypt(nil, pt)
	if err != nil {
		tb.Fatal(err)
	}
	reader, _ := newKube(c.provider, ks)
	// Check the implementation both ways against the apiserver before timing it.
	got, err := tr.decrypt(nil, stored)
	if err != nil || !bytes.Equal(got, pt) {
		tb.Fatalf("%s: decrypting the apiserver's value: err=%v equal=%v", c.name(), err, bytes.Equal(got, pt))
	}
	if nkeys == 1 {
		mine, err := tr.encrypt(nil, pt)
		if err != nil {
			tb.Fatal(err)
		}
		got, err = reader.decrypt(nil, mine)
		if err != nil || !bytes.Equal(got, pt) {
			tb.Fatalf("%s: the apiserver decrypting our value: err=%v", c.name(), err)
		}
	}
	switch c.op {
	case "encrypt":
		return func(dst []byte) ([]byte, error) { return tr.encrypt(dst, pt) }, pt
	case "decrypt":
		return func(dst []byte) ([]byte, error) { return tr.decrypt(dst, stored) }, pt
	}
	tb.Fatalf("unknown op %q", c.op)
	return nil, nil
}

// runSerial times one cell with b.Loop, reusing dst.
func runSerial(b *testing.B, c cell, nkeys int) {
	forceGeneric(b, c)
	op, _ := setup(b, c, nkeys)
	dst := make([]byte, 0, c.size.n+256)
	b.SetBytes(int64(c.size.n))
	b.ReportAllocs()
	pc := openCounters(b)
	started := false
	for b.Loop() {
		if !started {
			pc.start() // after b.Loop's own timer reset, so the counters see only the loop
			started = true
		}
		if _, err := op(dst[:0]); err != nil {
			b.Fatal(err)
		}
	}
	pc.report(b) // b.N holds the loop's iteration count once b.Loop returned false
}

// runParallel times one cell from GOMAXPROCS goroutines, each with its own dst.
// Hardware counters count one goroutine only, so they are not reported here.
func runParallel(b *testing.B, c cell) {
	forceGeneric(b, c)
	op, _ := setup(b, c, 1)
	b.SetBytes(int64(c.size.n))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		dst := make([]byte, 0, c.size.n+256)
		for pb.Next() {
			if _, err := op(dst[:0]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
