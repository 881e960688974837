package nonce_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"sync"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/aead/nonce"
)

var _ aead.NonceSource = (*nonce.Counter)(nil)

// A GCM using the Counter writes kube-apiserver's layout: plain aead.GCM and
// crypto/cipher's GCM (what kube-apiserver uses) both open it.
func TestCounterPayloadsOpenWithPlainGCM(t *testing.T) {
	for _, o := range []nonce.Options{{}, {RandomBits: 32}, {RandomBits: 8, EpochWrites: 3}} {
		for _, keyLen := range []int{16, 24, 32} {
			key := make([]byte, keyLen)
			rand.Read(key)
			src, err := nonce.NewCounter(o)
			if err != nil {
				t.Fatal(err)
			}
			w, err := aead.NewGCMWithNonces(key, src)
			if err != nil {
				t.Fatal(err)
			}
			r, err := aead.NewGCM(key)
			if err != nil {
				t.Fatal(err)
			}
			block, _ := aes.NewCipher(key)
			std, _ := cipher.NewGCM(block)
			ad := []byte("/registry/secrets/default/s1")
			seen := map[string]bool{}
			for i := range 10 {
				pt := bytes.Repeat([]byte{byte(i)}, i*7)
				sealed, err := w.Seal(nil, pt, ad)
				if err != nil {
					t.Fatal(err)
				}
				if len(sealed) != len(pt)+aead.GCMOverhead {
					t.Fatalf("len %d, want %d", len(sealed), len(pt)+aead.GCMOverhead)
				}
				n := string(sealed[:aead.GCMNonceSize])
				if seen[n] {
					t.Fatalf("%+v: nonce %x repeated", o, n)
				}
				seen[n] = true
				got, err := r.Open(nil, sealed, ad)
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("%+v: aead.GCM Open: %v", o, err)
				}
				got, err = std.Open(nil, sealed[:12], sealed[12:], ad)
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("%+v: crypto/cipher Open: %v", o, err)
				}
			}
		}
	}
}

func TestCounterLayoutAndRedraw(t *testing.T) {
	c, err := nonce.NewCounter(nonce.Options{EpochWrites: 4})
	if err != nil {
		t.Fatal(err)
	}
	var prefixes [][]byte
	for i := range 12 {
		var b [12]byte
		if err := c.FillNonce(b[:]); err != nil {
			t.Fatal(err)
		}
		if got := binary.BigEndian.Uint32(b[8:]); got != uint32(i%4) {
			t.Fatalf("write %d: counter %d, want %d", i, got, i%4)
		}
		if i%4 == 0 {
			prefixes = append(prefixes, bytes.Clone(b[:8]))
		} else if !bytes.Equal(b[:8], prefixes[len(prefixes)-1]) {
			t.Fatalf("write %d: prefix changed inside an epoch", i)
		}
	}
	if bytes.Equal(prefixes[0], prefixes[1]) || bytes.Equal(prefixes[1], prefixes[2]) || bytes.Equal(prefixes[0], prefixes[2]) {
		t.Fatalf("prefixes repeat: %x", prefixes)
	}
	if c.Epochs() != 3 {
		t.Fatalf("Epochs() = %d, want 3", c.Epochs())
	}
	// Redraw mid-epoch: new prefix, counter back to 0.
	var b [12]byte
	c.FillNonce(b[:])
	if err := c.Redraw(); err != nil {
		t.Fatal(err)
	}
	var a [12]byte
	c.FillNonce(a[:])
	if bytes.Equal(a[:8], b[:8]) || binary.BigEndian.Uint32(a[8:]) != 0 || c.Epochs() != 5 {
		t.Fatalf("after Redraw: %x (before %x), %d epochs", a, b, c.Epochs())
	}
}

func TestCounterRandomBits(t *testing.T) {
	c, err := nonce.NewCounter(nonce.Options{RandomBits: 32})
	if err != nil {
		t.Fatal(err)
	}
	var a, b [12]byte
	c.FillNonce(a[:])
	c.FillNonce(b[:])
	if !bytes.Equal(a[:4], b[:4]) {
		t.Fatalf("32-bit prefix changed: %x %x", a, b)
	}
	if bytes.Equal(a[4:8], b[4:8]) {
		t.Fatalf("fresh bits repeated (p = 2^-32): %x %x", a, b)
	}
	if binary.BigEndian.Uint32(a[8:]) != 0 || binary.BigEndian.Uint32(b[8:]) != 1 {
		t.Fatalf("counters %x %x", a[8:], b[8:])
	}
}

func TestCounterOptionsAndSize(t *testing.T) {
	for _, o := range []nonce.Options{{RandomBits: -8}, {RandomBits: 4}, {RandomBits: 40}, {EpochWrites: 1<<32 + 1}} {
		if _, err := nonce.NewCounter(o); !errors.Is(err, nonce.ErrOptions) {
			t.Errorf("%+v: err = %v, want ErrOptions", o, err)
		}
	}
	c, _ := nonce.NewCounter(nonce.Options{})
	for _, n := range []int{0, 11, 13, 24} {
		if err := c.FillNonce(make([]byte, n)); !errors.Is(err, nonce.ErrSize) {
			t.Errorf("len %d: err = %v, want ErrSize", n, err)
		}
	}
}

// Concurrent writers across several epoch re-draws never see a repeated
// nonce (run with -race in CI).
func TestCounterConcurrentUnique(t *testing.T) {
	c, err := nonce.NewCounter(nonce.Options{EpochWrites: 1000})
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 5000
	out := make([][][12]byte, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[w] = make([][12]byte, each)
			for i := range each {
				if err := c.FillNonce(out[w][i][:]); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	seen := make(map[[12]byte]bool, workers*each)
	for _, o := range out {
		for _, n := range o {
			if seen[n] {
				t.Fatalf("nonce %x repeated", n)
			}
			seen[n] = true
		}
	}
	if got := c.Epochs(); got != workers*each/1000 && got != workers*each/1000+1 {
		t.Errorf("Epochs() = %d, want about %d", got, workers*each/1000)
	}
}
