package ctcheck

// evictor walks a buffer larger than the per-core caches before each
// measured call, so the call starts with cold L1 and L2 (and a partly cold
// L3): a secret-indexed table then costs a miss whose time depends on the
// index, which the t-test sees.
type evictor struct {
	buf  []byte
	sink byte
}

func newEvictor(size int) *evictor {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i)
	}
	return &evictor{buf: b}
}

// walk touches every cache line of the buffer, reading and writing so the
// lines are owned and dirty, which pushes the previous contents out.
func (e *evictor) walk() {
	b := e.buf
	var s byte
	for i := 0; i < len(b); i += 64 {
		s += b[i]
		b[i] = s
	}
	e.sink += s
}
