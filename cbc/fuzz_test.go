package cbc_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/internal/impl"
)

// FuzzImplsAgree checks that every implementation seals the same bytes as
// the portable path for a given key, IV and plaintext, opens them back, and
// answers Open of arbitrary payloads exactly as the portable path does; and
// that SealBatch of the plaintext split in pieces matches Seal of each piece.
func FuzzImplsAgree(f *testing.F) {
	f.Add(bytes.Repeat([]byte{1}, 16), make([]byte, 16), []byte("hello"), []byte{})
	f.Add(bytes.Repeat([]byte{2}, 24), bytes.Repeat([]byte{9}, 16), bytes.Repeat([]byte("x"), 1000), bytes.Repeat([]byte{7}, 48))
	f.Add(bytes.Repeat([]byte{3}, 32), bytes.Repeat([]byte{5}, 16), make([]byte, 4096), make([]byte, 4128))
	f.Add(bytes.Repeat([]byte{4}, 32), bytes.Repeat([]byte{6}, 16), make([]byte, 511), bytes.Repeat([]byte{1}, 527))
	list := impl.List("cbc")
	f.Fuzz(func(t *testing.T, key, iv, pt, payload []byte) {
		defer impl.Reset("cbc")
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
		c, err := cbc.New(key)
		if err != nil {
			t.Fatal(err)
		}
		use(t, impl.Portable)
		want := seal(t, c, iv, pt)
		wantOpen, wantErr := c.Open(nil, payload, nil)
		var pieces [][]byte
		for rest := pt; len(rest) > 0 && len(pieces) < 40; {
			n := min(len(rest), int(rest[0])*3)
			pieces, rest = append(pieces, rest[:n]), rest[n:]
		}
		ivs := bytes.Repeat(iv, len(pieces))
		var wantBatch [][]byte
		for _, p := range pieces {
			wantBatch = append(wantBatch, seal(t, c, iv, p))
		}
		for _, name := range list[:len(list)-1] {
			use(t, name)
			if got := seal(t, c, iv, pt); !bytes.Equal(got, want) {
				t.Fatalf("%s: Seal differs from portable", name)
			}
			if got, err := c.Open(nil, want, nil); err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("%s: Open(Seal) = %v", name, err)
			}
			got, err := c.Open(nil, payload, nil)
			if !errors.Is(err, wantErr) || (err == nil) != (wantErr == nil) || !bytes.Equal(got, wantOpen) {
				t.Fatalf("%s: Open = %x, %v; portable %x, %v", name, got, err, wantOpen, wantErr)
			}
			cbc.SetRand(c, bytes.NewReader(ivs))
			batch, err := c.SealBatch(nil, pieces)
			if err != nil {
				t.Fatal(err)
			}
			for i := range pieces {
				if !bytes.Equal(batch[i], wantBatch[i]) {
					t.Fatalf("%s: SealBatch value %d of %d differs from Seal", name, i, len(pieces))
				}
			}
		}
	})
}
