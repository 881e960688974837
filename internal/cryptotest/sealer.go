package cryptotest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/atrest-dev/atrest/internal/impl"
)

// Sealer is the shape of cbc.Cipher, aead.GCM and aead.Secretbox.
type Sealer interface {
	Seal(dst, plaintext, ad []byte) ([]byte, error)
	Open(dst, payload, ad []byte) ([]byte, error)
	SealedLen(n int) int
}

// Spec describes a primitive to the contract suite.
type Spec struct {
	Pkg       string // its internal/impl package: "cbc", "gcm", "secretbox"
	KeySizes  []int
	NonceSize int // bytes of nonce (or IV) at the start of every payload
	// New returns a Sealer for key whose Seal takes nonce (NonceSize bytes)
	// as its nonce or IV on every call.
	New func(key, nonce []byte) (Sealer, error)
	// OpenOverhead is the number of payload bytes that never become
	// plaintext: Open(nil, p, ad) allocates at most len(p)-OpenOverhead.
	OpenOverhead int
	// Open returns ErrTooShort for every payload shorter than MinPayload.
	MinPayload  int
	ErrTooShort error
	// ErrAuth is Open's error for a payload that does not authenticate.
	// Unless Authenticated (aescbc), it is the error bad padding gives, and
	// Open of a tampered payload may also succeed.
	ErrAuth       error
	Authenticated bool
	// BindsAD: Open fails with ErrAuth when ad differs from Seal's.
	BindsAD bool
	// SealInPlace: Seal accepts a plaintext anywhere in dst's spare
	// capacity; otherwise Seal must panic when they overlap.
	SealInPlace bool
}

// sentinel fills spare capacity to see what a failed Open wrote there;
// plaintexts in these tests avoid it and zero.
const sentinel = 0xa5

// TestSealer runs the Seal/Open contract over every implementation of
// s.Pkg this CPU has, each forced in turn: round trips at many lengths with
// dst appended to, byte-for-byte agreement with the generic path, inputs
// left unmodified, the append and aliasing contract, refusal of tampered and
// truncated payloads with dst returned unchanged and no plaintext left in
// its spare capacity, the short-input error, and the allocation bounds.
func TestSealer(t *testing.T, s Spec) {
	cases := makeCases(s)
	// The reference: the generic path's payloads.
	impl.Select(s.Pkg, impl.Generic)
	for i := range cases {
		cases[i].want = s.seal(t, &cases[i], nil)
	}
	impl.Reset(s.Pkg)

	Each(t, s.Pkg, func(t *testing.T, name string) {
		t.Run("RoundTrip", func(t *testing.T) { s.testRoundTrip(t, cases) })
		t.Run("InputNotModified", func(t *testing.T) { s.testInputNotModified(t, cases) })
		t.Run("Append", func(t *testing.T) { s.testAppend(t, cases) })
		t.Run("Tamper", func(t *testing.T) { s.testTamper(t, cases) })
		t.Run("Short", func(t *testing.T) { s.testShort(t) })
		t.Run("Overlap", func(t *testing.T) { s.testOverlap(t, cases) })
		t.Run("Allocations", func(t *testing.T) { s.testAllocations(t) })
	})
}

type sealCase struct {
	key, nonce, pt, ad []byte
	want               []byte // the generic path's payload
}

// makeCases draws keys, nonces, plaintexts and ad for every length 0..300
// and the lengths around the kernels' block and batch sizes up to 16 KiB.
func makeCases(s Spec) []sealCase {
	rng := rand.New(rand.NewPCG(uint64(len(s.Pkg)), 0x5ea1))
	lengths := []int{}
	for n := 0; n <= 300; n++ {
		lengths = append(lengths, n)
	}
	for _, n := range []int{511, 512, 513, 767, 768, 1023, 1024, 1025, 2047, 2048, 4095, 4096, 4097, 16<<10 + 3} {
		lengths = append(lengths, n)
	}
	var cases []sealCase
	for i, n := range lengths {
		c := sealCase{
			key:   make([]byte, s.KeySizes[i%len(s.KeySizes)]),
			nonce: make([]byte, s.NonceSize),
			pt:    make([]byte, n),
			ad:    make([]byte, []int{0, 1, 28, 57, 100}[i%5]),
		}
		for _, b := range [][]byte{c.key, c.nonce, c.ad} {
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
		}
		for j := range c.pt {
			c.pt[j] = byte(1 + rng.IntN(sentinel-1)) // neither 0 nor sentinel
		}
		cases = append(cases, c)
	}
	return cases
}

func (s Spec) sealer(t testing.TB, c *sealCase) Sealer {
	t.Helper()
	x, err := s.New(c.key, c.nonce)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func (s Spec) seal(t testing.TB, c *sealCase, dst []byte) []byte {
	t.Helper()
	out, err := s.sealer(t, c).Seal(dst, c.pt, c.ad)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (s Spec) testRoundTrip(t *testing.T, cases []sealCase) {
	for i := range cases {
		c := &cases[i]
		x := s.sealer(t, c)
		got, err := x.Seal([]byte("pre"), c.pt, c.ad)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3+x.SealedLen(len(c.pt)) || string(got[:3]) != "pre" {
			t.Fatalf("len %d: Seal appended %d bytes to the prefix %q, want %d", len(c.pt), len(got)-3, got[:3], x.SealedLen(len(c.pt)))
		}
		payload := got[3:]
		if !bytes.Equal(payload, c.want) {
			t.Fatalf("len %d, key %d, ad %d: Seal differs from the generic path\n got %x\nwant %x",
				len(c.pt), len(c.key), len(c.ad), trunc(payload), trunc(c.want))
		}
		if !bytes.Equal(payload[:s.NonceSize], c.nonce) {
			t.Fatalf("len %d: payload does not start with the nonce", len(c.pt))
		}
		back, err := x.Open([]byte("x"), payload, c.ad)
		if err != nil || string(back[:1]) != "x" || !bytes.Equal(back[1:], c.pt) {
			t.Fatalf("len %d: Open(Seal) = %x, %v", len(c.pt), trunc(back), err)
		}
	}
}

func (s Spec) testInputNotModified(t *testing.T, cases []sealCase) {
	for _, i := range []int{0, 1, 17, 100, len(cases) - 1} {
		c := cases[i]
		pt, ad := bytes.Clone(c.pt), bytes.Clone(c.ad)
		x := s.sealer(t, &c)
		payload, err := x.Seal(nil, pt, ad)
		if err != nil || !bytes.Equal(pt, c.pt) || !bytes.Equal(ad, c.ad) {
			t.Fatalf("len %d: Seal modified its inputs (%v)", len(c.pt), err)
		}
		p := bytes.Clone(payload)
		if _, err := x.Open(nil, p, ad); err != nil || !bytes.Equal(p, payload) || !bytes.Equal(ad, c.ad) {
			t.Fatalf("len %d: Open modified its inputs (%v)", len(c.pt), err)
		}
	}
}

// testAppend checks the append contract: with room in dst the result lives
// in dst's array after its contents; without, dst is not written.
func (s Spec) testAppend(t *testing.T, cases []sealCase) {
	for _, i := range []int{0, 5, 64, 200, len(cases) - 1} {
		c := &cases[i]
		x := s.sealer(t, c)
		n := x.SealedLen(len(c.pt))
		dst := append(make([]byte, 0, 2+n), 'd', 'd')
		got, err := x.Seal(dst, c.pt, c.ad)
		if err != nil || &got[0] != &dst[0] || string(got[:2]) != "dd" || !bytes.Equal(got[2:], c.want) {
			t.Fatalf("len %d: Seal with room: not appended in place (%v)", len(c.pt), err)
		}
		small := append(make([]byte, 0, 3), 's', 's')
		got, err = x.Seal(small, c.pt, c.ad)
		if err != nil || &got[0] == &small[0] || string(small[:cap(small)]) != "ss\x00" || !bytes.Equal(got[2:], c.want) {
			t.Fatalf("len %d: Seal without room wrote to dst or lost it (%v)", len(c.pt), err)
		}
		out := append(make([]byte, 0, 1+n), 'o')
		back, err := x.Open(out, c.want, c.ad)
		if err != nil || &back[0] != &out[0] || !bytes.Equal(back[1:], c.pt) {
			t.Fatalf("len %d: Open with room: not appended in place (%v)", len(c.pt), err)
		}
	}
}

// failedOpen opens a payload that must fail (or, unless authenticated, may
// open) into a dst whose spare capacity holds the sentinel, and checks that
// a failure returns dst unchanged and leaves nothing but the sentinel or
// zeros there.
func (s Spec) failedOpen(t *testing.T, x Sealer, payload, ad []byte, mayOpen bool, what string) {
	t.Helper()
	dst := append(make([]byte, 0, 3+len(payload)+64), "abc"...)
	spare := dst[3:cap(dst)]
	for i := range spare {
		spare[i] = sentinel
	}
	got, err := x.Open(dst, payload, ad)
	if err == nil {
		if !mayOpen {
			t.Fatalf("%s: Open succeeded", what)
		}
		return
	}
	if !errors.Is(err, s.ErrAuth) {
		t.Fatalf("%s: Open error %v, want %v", what, err, s.ErrAuth)
	}
	if len(got) != 3 || &got[0] != &dst[0] || string(got) != "abc" {
		t.Fatalf("%s: failed Open returned %q, not dst", what, got)
	}
	for i, b := range spare {
		if b != sentinel && b != 0 {
			t.Fatalf("%s: failed Open left byte %#x at offset %d of dst's spare capacity", what, b, i)
		}
	}
}

func (s Spec) testTamper(t *testing.T, cases []sealCase) {
	mayOpen := !s.Authenticated
	for _, i := range []int{0, 1, 16, 33, 100, 300, len(cases) - 2} {
		c := &cases[i]
		x := s.sealer(t, c)
		step := 1 + len(c.want)/40
		for pos := 0; pos < len(c.want); pos += step {
			bad := bytes.Clone(c.want)
			bad[pos] ^= 1 << (pos % 8)
			s.failedOpen(t, x, bad, c.ad, mayOpen, fmt.Sprintf("len %d, bit flipped in byte %d", len(c.pt), pos))
		}
		if s.BindsAD {
			ad := append(bytes.Clone(c.ad), 0)
			s.failedOpen(t, x, c.want, ad, false, fmt.Sprintf("len %d, other ad", len(c.pt)))
		}
		for _, cut := range []int{1, 16} {
			if n := len(c.want) - cut; n >= s.MinPayload {
				got, err := x.Open(nil, c.want[:n], c.ad)
				if err == nil && !mayOpen {
					t.Fatalf("len %d, truncated by %d: Open = %x", len(c.pt), cut, trunc(got))
				}
			}
		}
	}
}

func (s Spec) testShort(t *testing.T) {
	c := sealCase{key: make([]byte, s.KeySizes[0]), nonce: make([]byte, s.NonceSize)}
	x := s.sealer(t, &c)
	for n := 0; n < s.MinPayload; n++ {
		dst := []byte("keep")
		got, err := x.Open(dst, make([]byte, n), nil)
		if !errors.Is(err, s.ErrTooShort) || string(got) != "keep" {
			t.Fatalf("Open of %d bytes = %q, %v; want dst and %v", n, got, err, s.ErrTooShort)
		}
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Fatalf("%s did not panic", what)
		}
	}()
	f()
}

func (s Spec) testOverlap(t *testing.T, cases []sealCase) {
	c := &cases[100]
	x := s.sealer(t, c)
	buf := make([]byte, 0, len(c.want)+64)
	payload := append(buf, c.want...)
	mustPanic(t, "Open into its own payload", func() { x.Open(payload[:0], payload, c.ad) })
	mustPanic(t, "Open into the middle of its payload", func() { x.Open(payload[:5], payload[16:], c.ad) })

	in := make([]byte, 0, len(c.want)+64)
	pt := append(in[:7], c.pt...)[7:] // the plaintext 7 bytes into dst's spare capacity
	if !s.SealInPlace {
		mustPanic(t, "Seal with the plaintext in dst's spare capacity", func() { x.Seal(in[:0], pt, c.ad) })
		return
	}
	got, err := x.Seal(in[:0], pt, c.ad)
	if err != nil || !bytes.Equal(got, c.want) {
		t.Fatalf("Seal with the plaintext in dst's spare capacity: %x, %v", trunc(got), err)
	}
}

func (s Spec) testAllocations(t *testing.T) {
	c := sealCase{key: make([]byte, s.KeySizes[len(s.KeySizes)-1]), nonce: make([]byte, s.NonceSize), pt: make([]byte, 4096)}
	x := s.sealer(t, &c)
	payload, _ := x.Seal(nil, c.pt, nil)
	dst := make([]byte, 0, 8192)
	if n := testing.AllocsPerRun(20, func() { x.Open(dst, payload, nil) }); n != 0 {
		t.Errorf("Open with room in dst: %v allocations", n)
	}
	if n := testing.AllocsPerRun(20, func() { x.Seal(dst, c.pt, nil) }); n != 0 {
		t.Errorf("Seal with room in dst: %v allocations", n)
	}
	out, _ := x.Open(nil, payload, nil)
	if cap(out) > len(payload)-s.OpenOverhead {
		t.Errorf("Open(nil) of a %d-byte payload allocated %d bytes, want at most %d", len(payload), cap(out), len(payload)-s.OpenOverhead)
	}
}

// A Vector is a published known-answer test.
type Vector struct {
	Name                  string
	Key, Nonce, Plaintext []byte
	AD                    []byte
	Payload               []byte // as laid out by Seal: nonce first
	Prefix                bool   // Payload is a prefix of Seal's output (CBC vectors lack the padding block)
}

// TestVectors runs published vectors through every implementation of
// s.Pkg: Seal with the vector's nonce gives its payload, and Open of what
// Seal gave returns the plaintext (for full payloads, Open of the vector too,
// and a flipped last byte must not authenticate).
func TestVectors(t *testing.T, s Spec, vs []Vector) {
	Each(t, s.Pkg, func(t *testing.T, name string) {
		for _, v := range vs {
			x, err := s.New(v.Key, v.Nonce)
			if err != nil {
				t.Fatal(err)
			}
			got, err := x.Seal(nil, v.Plaintext, v.AD)
			if err != nil || (v.Prefix && !bytes.HasPrefix(got, v.Payload)) || (!v.Prefix && !bytes.Equal(got, v.Payload)) {
				t.Fatalf("%s: Seal = %x, %v\nwant %x", v.Name, got, err, v.Payload)
			}
			if pt, err := x.Open(nil, got, v.AD); err != nil || !bytes.Equal(pt, v.Plaintext) {
				t.Fatalf("%s: Open(Seal) = %x, %v", v.Name, pt, err)
			}
			if v.Prefix {
				continue
			}
			if pt, err := x.Open(nil, v.Payload, v.AD); err != nil || !bytes.Equal(pt, v.Plaintext) {
				t.Fatalf("%s: Open = %x, %v", v.Name, pt, err)
			}
			if s.Authenticated {
				bad := bytes.Clone(v.Payload)
				bad[len(bad)-1] ^= 1
				if _, err := x.Open(nil, bad, v.AD); !errors.Is(err, s.ErrAuth) {
					t.Fatalf("%s: Open with a flipped last byte: %v", v.Name, err)
				}
			}
		}
	})
}

func trunc(b []byte) []byte {
	if len(b) > 48 {
		return b[:48]
	}
	return b
}
