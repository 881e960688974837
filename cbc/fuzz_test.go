package cbc_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/atrest-dev/atrest/internal/impl"
)

// FuzzImplsAgree checks that every implementation seals the same bytes as
// the generic path for a given key, IV and plaintext, opens them back, and
// answers Open of arbitrary payloads exactly as the generic path does; and
// that SealBatch of the plaintext split in pieces matches Seal of each piece.
func FuzzImplsAgree(f *testing.F) {
	f.Add(bytes.Repeat([]byte{1}, 16), make([]byte, 16), []byte("hello"), []byte{})
	f.Add(bytes.Repeat([]byte{2}, 24), bytes.Repeat([]byte{9}, 16), bytes.Repeat([]byte("x"), 1000), bytes.Repeat([]byte{7}, 48))
	f.Add(bytes.Repeat([]byte{3}, 32), bytes.Repeat([]byte{5}, 16), make([]byte, 4096), make([]byte, 4128))
	f.Add(bytes.Repeat([]byte{4}, 32), bytes.Repeat([]byte{6}, 16), make([]byte, 511), bytes.Repeat([]byte{1}, 527))
	f.Fuzz(func(t *testing.T, key, iv, pt, payload []byte) {
		switch {
		case len(key) >= 32:
			key = key[:32]
		case len(key) >= 24:
			key = key[:24]
		case len(key) >= 16:
			key = key[:16]
		default:
			return
		}
		if len(iv) < 16 {
			return
		}
		iv = iv[:16]
		c, err := withIV(key, iv)
		if err != nil {
			t.Fatal(err)
		}
		var pieces [][]byte
		for rest := pt; len(rest) > 0 && len(pieces) < 40; {
			n := min(len(rest), int(rest[0])*3)
			pieces, rest = append(pieces, rest[:n]), rest[n:]
		}
		type result struct {
			name        string
			sealed, out []byte
			err         error
			batch       [][]byte
		}
		var rs []result
		impl.Each("cbc", func(name string) {
			r := result{name: name}
			var err error
			if r.sealed, err = c.Seal(nil, pt, nil); err != nil {
				t.Fatal(err)
			}
			r.out, r.err = c.Open(nil, payload, nil)
			if r.batch, err = c.SealBatch(nil, pieces); err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		})
		ref := rs[len(rs)-1] // generic
		if back, err := c.Open(nil, ref.sealed, nil); err != nil || !bytes.Equal(back, pt) {
			t.Fatalf("Open(Seal) = %v", err)
		}
		for i, p := range pieces {
			if s, _ := c.Seal(nil, p, nil); !bytes.Equal(ref.batch[i], s) {
				t.Fatalf("SealBatch value %d of %d differs from Seal", i, len(pieces))
			}
		}
		for _, r := range rs[:len(rs)-1] {
			if !bytes.Equal(r.sealed, ref.sealed) {
				t.Fatalf("%s: Seal differs from generic", r.name)
			}
			if !errors.Is(r.err, ref.err) || (r.err == nil) != (ref.err == nil) || !bytes.Equal(r.out, ref.out) {
				t.Fatalf("%s: Open = %x, %v; generic %x, %v", r.name, r.out, r.err, ref.out, ref.err)
			}
			for i := range pieces {
				if !bytes.Equal(r.batch[i], ref.batch[i]) {
					t.Fatalf("%s: SealBatch value %d of %d differs from generic", r.name, i, len(pieces))
				}
			}
		}
	})
}
