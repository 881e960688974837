package bench

import (
	"testing"

	"github.com/atrest-dev/atrest/internal/impl"
)

// providerPkg maps a provider to the internal/impl package of its primitive.
var providerPkg = map[string]string{"aescbc": "cbc", "aesgcm": "gcm", "secretbox": "secretbox"}

var pathSizes = []size{{"4KiB", 4 << 10}}

// pathCells lists BenchmarkPaths: for each provider, op and size, the atrest
// chain with each implementation this CPU offers for the provider's package
// forced in turn (path=<name>, impl.List order, generic last), each next to
// its own run of the kubernetes transformer, so that every hot path is
// measured against the apiserver in one run, in adjacent time, as the
// packages gain them (rows /provider /op /path, columns /impl).
func pathCells() []cell {
	var out []cell
	for _, p := range rotationProvs {
		for _, o := range ops {
			for _, s := range pathSizes {
				for _, name := range impl.List(providerPkg[p]) {
					for _, i := range []string{"kubernetes", "atrest"} {
						out = append(out, cell{top: "BenchmarkPaths", provider: p, op: o, size: s, impl: i, path: name})
					}
				}
			}
		}
	}
	return out
}

func BenchmarkPaths(b *testing.B) {
	for _, c := range pathCells() {
		b.Run(c.sub(), func(b *testing.B) {
			if c.impl == "atrest" {
				pkg := providerPkg[c.provider]
				if !impl.Select(pkg, c.path) {
					b.Skipf("%s: implementation %s not available", pkg, c.path)
				}
				b.Cleanup(func() { impl.Reset(pkg) })
			}
			runSerial(b, c, 1)
		})
	}
}
