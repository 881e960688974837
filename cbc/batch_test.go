package cbc_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/atrest-dev/atrest/cbc"
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

// TestSealBatchInPlace puts each plaintext inside its own dst's spare
// capacity, at several offsets, as Seal allows, and compares with Seal.
func TestSealBatchInPlace(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	c, _ := cbc.New(key)
	for _, name := range impls(t) {
		for _, shift := range []int{0, 5, 16, 17, 40} {
			const n = 12
			dsts := make([][]byte, n)
			pts := make([][]byte, n)
			wants := make([][]byte, n)
			ivs := make([]byte, 16*n)
			for i := range ivs {
				ivs[i] = byte(i * 7)
			}
			use(t, impl.Portable)
			for i := range dsts {
				l := 37*i + i%3*16
				buf := make([]byte, 2, 2+shift+l+64)
				buf[0], buf[1] = 'd', byte(i)
				pt := buf[2+shift : 2+shift+l]
				for j := range pt {
					pt[j] = byte(i + j)
				}
				dsts[i], pts[i] = buf, pt
				ref := bytes.Clone(buf[:cap(buf)])
				cbc.SetRand(c, bytes.NewReader(ivs[16*i:]))
				wants[i], _ = c.Seal(ref[:2], ref[2+shift:2+shift+l], nil)
			}
			use(t, name)
			cbc.SetRand(c, bytes.NewReader(ivs))
			got, err := c.SealBatch(dsts, pts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if !bytes.Equal(got[i], wants[i]) {
					t.Fatalf("%s shift %d: value %d differs from Seal", name, shift, i)
				}
			}
		}
	}
}
