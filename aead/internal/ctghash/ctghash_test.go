package ctghash_test

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"testing"

	"github.com/atrest-dev/atrest/aead/internal/ctghash"
)

// refMul is the textbook bit-by-bit multiplication in GF(2¹²⁸) of NIST SP
// 800-38D, Algorithm 1 (variable time; for tests only).
func refMul(x, y [16]byte) [16]byte {
	xh, xl := binary.BigEndian.Uint64(x[:8]), binary.BigEndian.Uint64(x[8:])
	vh, vl := binary.BigEndian.Uint64(y[:8]), binary.BigEndian.Uint64(y[8:])
	var zh, zl uint64
	for i := 0; i < 128; i++ {
		var bit uint64
		if i < 64 {
			bit = xh >> (63 - i) & 1
		} else {
			bit = xl >> (127 - i) & 1
		}
		if bit == 1 {
			zh ^= vh
			zl ^= vl
		}
		lsb := vl & 1
		vl = vl>>1 | vh<<63
		vh >>= 1
		if lsb == 1 {
			vh ^= 0xe1 << 56
		}
	}
	var out [16]byte
	binary.BigEndian.PutUint64(out[:8], zh)
	binary.BigEndian.PutUint64(out[8:], zl)
	return out
}

func refGHASH(h [16]byte, data []byte) [16]byte {
	var y [16]byte
	for len(data) > 0 {
		var blk [16]byte
		n := copy(blk[:], data)
		data = data[n:]
		for i := range y {
			y[i] ^= blk[i]
		}
		y = refMul(y, h)
	}
	return y
}

func TestAgainstReference(t *testing.T) {
	for n := 0; n < 300; n++ {
		var h [16]byte
		rand.Read(h[:])
		data := make([]byte, n)
		rand.Read(data)
		g := ctghash.New(h[:])
		g.Update(data)
		want := refGHASH(h, data)
		if got := g.Sum(nil); !bytes.Equal(got, want[:]) {
			t.Fatalf("len %d: got %x, want %x", n, got, want)
		}
	}
}

// TestEdgeOperands exercises all-ones and sparse operands, where a carry
// escaping the multiplication holes would show first.
func TestEdgeOperands(t *testing.T) {
	var ones, top, one [16]byte
	for i := range ones {
		ones[i] = 0xff
	}
	top[0], one[15] = 0x80, 0x01
	vals := [][16]byte{ones, top, one, {}}
	for range 50 {
		var r [16]byte
		rand.Read(r[:])
		vals = append(vals, r)
	}
	for _, h := range vals {
		for _, x := range vals {
			g := ctghash.New(h[:])
			g.Update(x[:])
			want := refMul(x, h)
			if got := g.Sum(nil); !bytes.Equal(got, want[:]) {
				t.Fatalf("H=%x X=%x: got %x, want %x", h, x, got, want)
			}
		}
	}
}

func TestLengthsAndReset(t *testing.T) {
	var h [16]byte
	rand.Read(h[:])
	ad, ct := make([]byte, 20), make([]byte, 37)
	rand.Read(ad)
	rand.Read(ct)
	g := ctghash.New(h[:])
	g.Update([]byte("garbage to be reset"))
	g.Reset()
	g.Update(ad)
	g.Update(ct)
	g.UpdateLengths(uint64(len(ad)), uint64(len(ct)))

	var msg []byte
	msg = append(msg, ad...)
	msg = append(msg, make([]byte, 12)...)
	msg = append(msg, ct...)
	msg = append(msg, make([]byte, 11)...)
	msg = binary.BigEndian.AppendUint64(msg, 8*20)
	msg = binary.BigEndian.AppendUint64(msg, 8*37)
	want := refGHASH(h, msg)
	if got := g.Sum(nil); !bytes.Equal(got, want[:]) {
		t.Fatalf("got %x, want %x", got, want)
	}
}

func BenchmarkUpdate(b *testing.B) {
	g := ctghash.New(make([]byte, 16))
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		g.Update(buf)
	}
}
