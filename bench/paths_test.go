package bench

import (
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/internal/impl"
)

// providerPkg maps a provider to the internal/impl package of its primitive.
var providerPkg = map[string]string{"aescbc": "cbc", "aesgcm": "gcm", "secretbox": "secretbox"}

var pathSizes = []size{{"4KiB", 4 << 10}}

// pathCells lists BenchmarkPaths: for each provider, op and size, the
// kubernetes transformer and the atrest chain with each implementation this
// CPU offers for the provider's package forced in turn (impl=atrest-<name>,
// impl.List order, portable last), so every hot path is measured against the
// apiserver in one run as the packages gain them.
func pathCells() []cell {
	var out []cell
	for _, p := range rotationProvs {
		for _, o := range ops {
			for _, s := range pathSizes {
				out = append(out, cell{"BenchmarkPaths", p, o, s, "kubernetes"})
				for _, name := range impl.List(providerPkg[p]) {
					out = append(out, cell{"BenchmarkPaths", p, o, s, "atrest-" + name})
				}
			}
		}
	}
	return out
}

func BenchmarkPaths(b *testing.B) {
	for _, c := range pathCells() {
		b.Run(c.sub(), func(b *testing.B) {
			name, forced := strings.CutPrefix(c.impl, "atrest-")
			if forced {
				pkg := providerPkg[c.provider]
				if !impl.Select(pkg, name) {
					b.Skipf("%s: implementation %s not available", pkg, name)
				}
				b.Cleanup(func() { impl.Reset(pkg) })
				c.impl = "atrest"
			}
			runSerial(b, c, 1)
		})
	}
}
