package cbc_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"slices"
	"testing"

	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/internal/cryptotest"
	"github.com/atrest-dev/atrest/internal/impl"
)

// Re-encrypting values under a new key during rotation: open each value with
// the old key, then seal them all with one SealBatch call.
func ExampleCipher_SealBatch() {
	oldKey, newKey := make([]byte, 32), make([]byte, 32)
	newKey[0] = 1
	oldC, _ := cbc.New(oldKey)
	newC, _ := cbc.New(newKey)

	var stored [][]byte
	for _, v := range []string{"alpha", "a somewhat longer secret value", ""} {
		s, _ := oldC.Seal(nil, []byte(v), nil)
		stored = append(stored, s)
	}

	plain := make([][]byte, len(stored))
	for i, s := range stored {
		plain[i], _ = oldC.Open(nil, s, nil)
	}
	resealed, err := newC.SealBatch(nil, plain)
	if err != nil {
		panic(err)
	}
	for _, s := range resealed {
		p, err := newC.Open(nil, s, nil)
		fmt.Printf("%d bytes: %q %v\n", len(s), p, err)
	}
	// Output:
	// 32 bytes: "alpha" <nil>
	// 48 bytes: "a somewhat longer secret value" <nil>
	// 32 bytes: "" <nil>
}

func fill(rng *mrand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// sealEach is SealBatch's specification: Seal of each value in index order,
// on the generic path, with the same random stream.
func sealEach(t *testing.T, c *cbc.Cipher, ivs []byte, dsts, pts [][]byte) [][]byte {
	t.Helper()
	impl.Select("cbc", impl.Generic)
	defer impl.Reset("cbc")
	cbc.SetRand(c, bytes.NewReader(ivs))
	var out [][]byte
	for i := range pts {
		var dst []byte
		if dsts != nil {
			dst = slices.Clone(dsts[i])
		}
		s, err := c.Seal(dst, pts[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestSealBatch checks SealBatch against Seal in index order with the same
// random stream, for every implementation, with unequal and equal lengths,
// batch sizes around the lane counts, and dsts with and without room.
func TestSealBatch(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(3, 4))
	type batch struct {
		key, ivs  []byte
		dsts, pts [][]byte
		want      [][]byte
		n         int
		equal     bool
	}
	var batches []batch
	for _, ks := range []int{16, 24, 32} {
		for _, n := range []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 50} {
			for _, equal := range []bool{false, true} {
				b := batch{key: make([]byte, ks), ivs: make([]byte, 16*n), n: n, equal: equal}
				fill(rng, b.key)
				fill(rng, b.ivs)
				l := rng.IntN(300)
				for i := 0; i < n; i++ {
					if !equal {
						l = rng.IntN(700)
					}
					pt := make([]byte, l)
					fill(rng, pt)
					b.pts = append(b.pts, pt)
					b.dsts = append(b.dsts, append(make([]byte, 0, rng.IntN(2)*2000), byte(i), 'p'))
				}
				batches = append(batches, b)
			}
		}
	}
	for i := range batches {
		b := &batches[i]
		c, _ := cbc.New(b.key)
		b.want = sealEach(t, c, b.ivs, b.dsts, b.pts)
	}
	cryptotest.Each(t, "cbc", func(t *testing.T, name string) {
		for _, b := range batches {
			c, _ := cbc.New(b.key)
			cbc.SetRand(c, bytes.NewReader(b.ivs))
			got, err := c.SealBatch(slices.Clone(b.dsts), b.pts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range b.pts {
				if !bytes.Equal(got[i], b.want[i]) {
					t.Fatalf("key %d batch %d (equal %v): value %d (len %d) differs from Seal",
						len(b.key), b.n, b.equal, i, len(b.pts[i]))
				}
			}
		}
	})
}

// TestSealBatchInPlace puts each plaintext inside its own dst's spare
// capacity, at several offsets, as Seal allows, and compares with Seal.
func TestSealBatchInPlace(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	c, _ := cbc.New(key)
	const n = 12
	ivs := make([]byte, 16*n)
	for i := range ivs {
		ivs[i] = byte(i * 7)
	}
	layout := func(shift int) (dsts, pts [][]byte) {
		for i := 0; i < n; i++ {
			l := 37*i + i%3*16
			buf := make([]byte, 2, 2+shift+l+64)
			buf[0], buf[1] = 'd', byte(i)
			pt := buf[2+shift : 2+shift+l]
			for j := range pt {
				pt[j] = byte(i + j)
			}
			dsts, pts = append(dsts, buf), append(pts, pt)
		}
		return dsts, pts
	}
	shifts := []int{0, 5, 16, 17, 40}
	var wants [][][]byte
	for _, shift := range shifts {
		d, p := layout(shift)
		wants = append(wants, sealEach(t, c, ivs, d, p))
	}
	cryptotest.Each(t, "cbc", func(t *testing.T, name string) {
		for k, shift := range shifts {
			dsts, pts := layout(shift)
			cbc.SetRand(c, bytes.NewReader(ivs))
			got, err := c.SealBatch(dsts, pts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if !bytes.Equal(got[i], wants[k][i]) {
					t.Fatalf("shift %d: value %d differs from Seal", shift, i)
				}
			}
		}
	})
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
	cryptotest.Each(t, "cbc", func(t *testing.T, name string) {
		cbc.SetRand(c, io.LimitReader(bytes.NewReader(make([]byte, 64)), 40))
		dst := make([]byte, 0, 100)
		out, err := c.SealBatch([][]byte{dst, dst[:0:0], nil}, [][]byte{[]byte("secret"), nil, nil})
		if err == nil || out != nil {
			t.Fatalf("short random source: out = %v, err = %v", out, err)
		}
		if !bytes.Equal(dst[:100], make([]byte, 100)) {
			t.Fatal("dst written on error")
		}
	})
}

// TestSealBatchAllocations checks that SealBatch allocates only its result
// slice and, for more than 16 values, its IV buffer, when the dsts have room.
func TestSealBatchAllocations(t *testing.T) {
	c, _ := cbc.New(make([]byte, 32))
	pts := make([][]byte, 16)
	dsts := make([][]byte, 16)
	for i := range pts {
		pts[i] = make([]byte, 100*i)
		dsts[i] = make([]byte, 0, 2000)
	}
	cryptotest.Each(t, "cbc", func(t *testing.T, name string) {
		if n := testing.AllocsPerRun(20, func() { c.SealBatch(dsts, pts) }); n > 2 {
			t.Errorf("SealBatch with room in dsts: %v allocations", n)
		}
	})
}
