package alias

import "testing"

func TestAnyOverlap(t *testing.T) {
	b := make([]byte, 64)
	for _, c := range []struct {
		x, y []byte
		want bool
	}{
		{b[:10], b[10:20], false},
		{b[:10], b[9:20], true},
		{b[5:6], b[:64], true},
		{b[:0], b[:64], false},
		{b[:10], make([]byte, 10), false},
	} {
		if got := AnyOverlap(c.x, c.y); got != c.want {
			t.Errorf("AnyOverlap = %v, want %v", got, c.want)
		}
		if got := AnyOverlap(c.y, c.x); got != c.want {
			t.Errorf("AnyOverlap (swapped) = %v, want %v", got, c.want)
		}
	}
}

func TestSliceForAppend(t *testing.T) {
	in := make([]byte, 3, 8)
	head, tail := SliceForAppend(in, 5)
	if len(head) != 8 || len(tail) != 5 || &head[0] != &in[0] {
		t.Fatal("did not reuse capacity")
	}
	head, tail = SliceForAppend(in, 6)
	if len(head) != 9 || cap(head) != 9 || len(tail) != 6 || &head[0] == &in[0] {
		t.Fatal("did not allocate exactly")
	}
}
