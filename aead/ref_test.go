package aead_test

import (
	"bytes"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/internal/impl"
)

// TestGCMVectorsEveryImpl runs the McGrew–Viega vectors through every GCM
// implementation this CPU has, the portable one included.
func TestGCMVectorsEveryImpl(t *testing.T) {
	defer impl.Reset("gcm")
	for _, name := range impl.List("gcm") {
		if !impl.Select("gcm", name) {
			t.Fatalf("cannot select %s", name)
		}
		for _, v := range gcmVectors {
			g, err := aead.NewGCMWithNonces(unhex(v.key), fixedNonces(unhex(v.iv)))
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(v.iv + v.ct + v.tag)
			got, err := g.Seal(nil, unhex(v.pt), unhex(v.ad))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s %s: Seal = %x, %v\nwant %x", name, v.name, got, err, want)
			}
			pt, err := g.Open(nil, want, unhex(v.ad))
			if err != nil || !bytes.Equal(pt, unhex(v.pt)) {
				t.Fatalf("%s %s: Open = %x, %v", name, v.name, pt, err)
			}
		}
	}
}

// BenchmarkRef measures the GCM throughput of each implementation, the
// portable (constant-time) one included, for a 16 KiB value.
func BenchmarkRef(b *testing.B) {
	defer impl.Reset("gcm")
	key := make([]byte, 32)
	pt := make([]byte, 16<<10)
	for _, name := range impl.List("gcm") {
		impl.Select("gcm", name)
		g, _ := aead.NewGCM(key)
		sealed, _ := g.Seal(nil, pt, nil)
		dst := make([]byte, 0, len(sealed))
		b.Run("op=Seal/impl="+name, func(b *testing.B) {
			b.SetBytes(int64(len(pt)))
			for b.Loop() {
				g.Seal(dst[:0], pt, nil)
			}
		})
		b.Run("op=Open/impl="+name, func(b *testing.B) {
			b.SetBytes(int64(len(pt)))
			for b.Loop() {
				if _, err := g.Open(dst[:0], sealed, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
