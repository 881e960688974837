package bench

import (
	"bytes"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/internal/impl"
)

// TestMatrixInterop builds every implementation of every provider (with the
// generic paths forced for impl=generic) and checks that each reads what the
// apiserver writes and the apiserver reads what each writes — the checks
// every benchmark makes in setup — then runs the timed operation once.
func TestMatrixInterop(t *testing.T) {
	for _, c := range matrix() {
		if c.size.n > 4<<10 || c.top == "BenchmarkTransformParallel" || c.top == "BenchmarkPaths" {
			continue
		}
		t.Run(c.name(), func(t *testing.T) {
			forceGeneric(t, c)
			nkeys := 1
			if c.top == "BenchmarkRotation" {
				nkeys = 2
			}
			op, pt := setup(t, c, nkeys)
			dst := make([]byte, 0, c.size.n+256)
			out, err := op(dst)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(c.op, "decrypt") && !bytes.Equal(out, pt) {
				t.Fatal("decrypt: wrong plaintext")
			}
			want := "k8s:enc:" + c.provider + ":v1:key1:"
			if c.provider == kmsProvider {
				want = "k8s:enc:kms:v2:bench:"
			}
			if c.op == "encrypt" && c.provider != "identity" && !bytes.HasPrefix(out, []byte(want)) {
				t.Fatalf("encrypt: value starts %q", out[:min(len(out), 32)])
			}
		})
	}
}

// TestAtrestAllocs checks the allocation contract: with room in dst, atrest
// encrypts and decrypts without allocating.
func TestAtrestAllocs(t *testing.T) {
	for _, c := range cells("BenchmarkTransform", providers, ops, []size{{"4KiB", 4 << 10}}) {
		if c.impl != "atrest" {
			continue
		}
		op, _ := setup(t, c, 1)
		dst := make([]byte, 0, c.size.n+256)
		if n := testing.AllocsPerRun(20, func() { op(dst[:0]) }); n > 1 {
			t.Errorf("%s: %v allocs/op, want at most 1", c.name(), n)
		}
	}
	// KMS v2 with a warm DEK cache: none on the VAES-512 and generic GCM
	// paths; crypto/cipher's GCM allocates its key schedule for each
	// HKDF-derived key (aead.SealGCMWithKey).
	for _, c := range kmsCells("BenchmarkTransform", []size{{"4KiB", 4 << 10}}) {
		if c.impl != "atrest" || c.op == "decrypt-cold" {
			continue
		}
		op, _ := setup(t, c, 1)
		dst := make([]byte, 0, c.size.n+256)
		for _, path := range impl.List("gcm") {
			if !impl.Select("gcm", path) {
				t.Fatalf("cannot select gcm %s", path)
			}
			bound := 0.0
			if path == "stdlib" {
				bound = kmsStdlibAllocs
			}
			if n := testing.AllocsPerRun(20, func() { op(dst[:0]) }); n > bound {
				t.Errorf("%s with gcm=%s: %v allocs/op, want at most %v", c.name(), path, n, bound)
			}
		}
		impl.Reset("gcm")
	}
}

// kmsStdlibAllocs is what crypto/aes and crypto/cipher allocate for one
// derived GCM key (the KMS v2 HKDF path on CPUs without VAES-512).
const kmsStdlibAllocs = 2

func TestSelected(t *testing.T) {
	all := matrix()
	count := func(bench, skip string) int { return len(selected(all, bench, skip)) }
	perTop := map[string]int{}
	for _, c := range all {
		perTop[c.top]++
	}
	nKMS := len(kmsCells("BenchmarkTransform", sizes))
	for _, tc := range []struct {
		bench, skip string
		want        int
	}{
		{".", "", len(all)},
		{"Paths", "", perTop["BenchmarkPaths"]},
		{"Transform", "", perTop["BenchmarkTransform"] + perTop["BenchmarkTransformParallel"]},
		{"Transform$", "", perTop["BenchmarkTransform"]},
		{"^BenchmarkTransform$/provider=aesgcm/op=encrypt/size=4KiB/", "", len(impls)},
		{"Transform$/provider=(aesgcm|aescbc)/op=encrypt/size=4KiB/impl=atrest", "", 2},
		{"Rotation//op=decrypt/size=[0-9]+KiB", "", perTop["BenchmarkRotation"]},
		{".", "Parallel", perTop["BenchmarkTransform"] + perTop["BenchmarkRotation"] + perTop["BenchmarkPaths"]},
		{"Transform$", "Transform/provider=identity", (perTop["BenchmarkTransform"]-nKMS)*3/4 + nKMS},
		{"Transform$/provider=kms", "", nKMS},
		{"NoSuch", "", 0},
	} {
		if got := count(tc.bench, tc.skip); got != tc.want {
			t.Errorf("selected(-bench %q -skip %q) = %d, want %d", tc.bench, tc.skip, got, tc.want)
		}
	}
	if got := strings.Join(splitRegexp(`a/[/]/(x/y)/\/b`), "|"); got != `a|[/]|(x/y)|\/b` {
		t.Errorf("splitRegexp = %q", got)
	}
}
