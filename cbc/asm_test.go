package cbc_test

import (
	"bytes"
	"errors"
	"io"
	mrand "math/rand/v2"
	"slices"
	"testing"

	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/internal/impl"
)

// impls returns every implementation of package cbc this CPU runs, the
// portable path last, and restores the detected selection when t ends.
func impls(t testing.TB) []string {
	t.Cleanup(func() { impl.Reset("cbc") })
	return impl.List("cbc")
}

func use(t testing.TB, name string) {
	t.Helper()
	if !impl.Select("cbc", name) {
		t.Fatalf("impl %q not available", name)
	}
}

// seal seals pt under the selected implementation with the given IV.
func seal(t testing.TB, c *cbc.Cipher, iv, pt []byte) []byte {
	t.Helper()
	cbc.SetRand(c, bytes.NewReader(iv))
	out, err := c.Seal(nil, pt, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImplsRegistered(t *testing.T) {
	list := impls(t)
	if list[len(list)-1] != impl.Portable {
		t.Fatalf("List = %v, want Portable last", list)
	}
	for _, name := range list {
		use(t, name)
		if got := impl.Active("cbc"); got != name {
			t.Errorf("Select(%q): Active = %q", name, got)
		}
	}
	t.Logf("cbc implementations on this CPU: %v", list)
}

// TestImplsAgreeAllLengths compares every implementation with the portable
// path for each key size and every plaintext length 0..4096: Seal with a
// fixed IV must give the same bytes, Open must give back the plaintext, and
// Open of a corrupted payload must fail or succeed alike.
func TestImplsAgreeAllLengths(t *testing.T) {
	list := impls(t)
	rng := mrand.New(mrand.NewPCG(1, 2))
	buf := make([]byte, 4096+16)
	for _, ks := range []int{16, 24, 32} {
		key := make([]byte, ks)
		fill(rng, key)
		c, err := cbc.New(key)
		if err != nil {
			t.Fatal(err)
		}
		iv := make([]byte, 16)
		for n := 0; n <= 4096; n++ {
			fill(rng, iv)
			pt := buf[:n]
			fill(rng, pt)
			use(t, impl.Portable)
			want := seal(t, c, iv, pt)
			bad := bytes.Clone(want)
			bad[rng.IntN(len(bad))] ^= 1 << rng.IntN(8)
			wantBad, wantBadErr := c.Open(nil, bad, nil)
			for _, name := range list[:len(list)-1] {
				use(t, name)
				if got := seal(t, c, iv, pt); !bytes.Equal(got, want) {
					t.Fatalf("%s, key %d, len %d: Seal differs from portable", name, ks, n)
				}
				got, err := c.Open([]byte("x"), want, nil)
				if err != nil || !bytes.Equal(got[1:], pt) || got[0] != 'x' {
					t.Fatalf("%s, key %d, len %d: Open = %v", name, ks, n, err)
				}
				gotBad, err := c.Open(nil, bad, nil)
				if !errors.Is(err, wantBadErr) || !bytes.Equal(gotBad, wantBad) {
					t.Fatalf("%s, key %d, len %d: Open of a corrupted payload = %v, portable %v", name, ks, n, err, wantBadErr)
				}
			}
		}
	}
}

func fill(rng *mrand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// TestImplsNISTVectors runs the SP 800-38A vectors through every path.
func TestImplsNISTVectors(t *testing.T) {
	for _, name := range impls(t) {
		for _, v := range nistVectors {
			use(t, name)
			c, err := cbc.New(unhex(v.key))
			if err != nil {
				t.Fatal(err)
			}
			sealed := seal(t, c, unhex(nistIV), unhex(nistPT))
			want := append(unhex(nistIV), unhex(v.ct)...)
			if !bytes.Equal(sealed[:80], want) {
				t.Errorf("%s %s: Seal = %x\nwant %x…", name, v.name, sealed, want)
			}
			// Decrypt the vector's own ciphertext blocks by opening them with a
			// valid padding block appended (the last sealed block).
			payload := append(want, sealed[80:]...)
			got, err := c.Open(nil, payload, nil)
			if err != nil || !bytes.Equal(got, unhex(nistPT)) {
				t.Errorf("%s %s: Open = %x, %v", name, v.name, got, err)
			}
		}
	}
}

// TestSealBatch checks SealBatch against Seal in index order with the same
// random stream, for every path, with unequal and equal lengths, batch sizes
// around the lane counts, and dsts with and without room.
func TestSealBatch(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(3, 4))
	for _, name := range impls(t) {
		for _, ks := range []int{16, 24, 32} {
			key := make([]byte, ks)
			fill(rng, key)
			c, _ := cbc.New(key)
			for _, n := range []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 50} {
				for _, equal := range []bool{false, true} {
					pts := make([][]byte, n)
					dsts := make([][]byte, n)
					l := rng.IntN(300)
					for i := range pts {
						if !equal {
							l = rng.IntN(700)
						}
						pts[i] = make([]byte, l)
						fill(rng, pts[i])
						dsts[i] = append(make([]byte, 0, rng.IntN(2)*2000), byte(i), 'p')
					}
					ivs := make([]byte, 16*n)
					fill(rng, ivs)
					use(t, name)
					cbc.SetRand(c, bytes.NewReader(ivs))
					got, err := c.SealBatch(slices.Clone(dsts), pts)
					if err != nil {
						t.Fatal(err)
					}
					use(t, impl.Portable)
					cbc.SetRand(c, bytes.NewReader(ivs))
					for i := range pts {
						want, _ := c.Seal(slices.Clone(dsts[i]), pts[i], nil)
						if !bytes.Equal(got[i], want) {
							t.Fatalf("%s key %d batch %d (equal %v): value %d (len %d) differs from Seal",
								name, ks, n, equal, i, len(pts[i]))
						}
					}
				}
			}
		}
	}
}

func TestSealBatchErrors(t *testing.T) {
	c, _ := cbc.New(make([]byte, 32))
	if _, err := c.SealBatch(make([][]byte, 2), make([][]byte, 3)); !errors.Is(err, cbc.ErrBatchLen) {
		t.Errorf("mismatched lengths: err = %v", err)
	}
	// nil dsts appends to nil.
	out, err := c.SealBatch(nil, [][]byte{[]byte("a"), nil})
	if err != nil || len(out) != 2 || len(out[0]) != 32 || len(out[1]) != 32 {
		t.Errorf("nil dsts: %d values, %v", len(out), err)
	}
	// A random source that runs dry leaves every dst untouched.
	for _, name := range impls(t) {
		use(t, name)
		cbc.SetRand(c, io.LimitReader(bytes.NewReader(make([]byte, 64)), 40))
		dst := make([]byte, 0, 100)
		out, err := c.SealBatch([][]byte{dst, dst[:0:0], nil}, [][]byte{[]byte("secret"), nil, nil})
		if err == nil || out != nil {
			t.Fatalf("%s: short random source: out = %v, err = %v", name, out, err)
		}
		if !bytes.Equal(dst[:100], make([]byte, 100)) {
			t.Fatalf("%s: dst written on error", name)
		}
	}
}

// TestHWAllocations checks that the assembly paths keep Seal and Open free of
// allocations when dst has room, and SealBatch to its result slice, its IV
// buffer and the outputs that need to grow.
func TestHWAllocations(t *testing.T) {
	c, _ := cbc.New(make([]byte, 32))
	sealed, _ := c.Seal(nil, make([]byte, 4096), nil)
	dst := make([]byte, 0, 8192)
	pts := make([][]byte, 16)
	dsts := make([][]byte, 16)
	for i := range pts {
		pts[i] = make([]byte, 100*i)
		dsts[i] = make([]byte, 0, 2000)
	}
	for _, name := range impls(t) {
		use(t, name)
		if n := testing.AllocsPerRun(20, func() { c.Open(dst, sealed, nil) }); n != 0 {
			t.Errorf("%s: Open with room in dst: %v allocations", name, n)
		}
		if n := testing.AllocsPerRun(20, func() { c.Seal(dst, sealed, nil) }); n != 0 {
			t.Errorf("%s: Seal with room in dst: %v allocations", name, n)
		}
		if n := testing.AllocsPerRun(20, func() { c.SealBatch(dsts, pts) }); n > 2 {
			t.Errorf("%s: SealBatch with room in dsts: %v allocations", name, n)
		}
	}
}
