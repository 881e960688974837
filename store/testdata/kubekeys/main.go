// Command kubekeys extracts, from the Kubernetes source tree, where
// kube-apiserver stores each built-in resource in etcd, into the table
// store's tests check the key table against (../kube-etcd-paths.txt).
//
// The etcd paths come from test/integration/etcd/data.go, whose
// GetEtcdStorageData lists the ExpectedEtcdPath of every persisted built-in
// resource (the storage test of kube-apiserver verifies each), with the
// group its objects are stored as (ExpectedGVK, e.g. events.k8s.io events
// stored as core events). The data kube-apiserver keeps in etcd outside the
// REST storage (the service IP and node port allocation bitmaps, the
// apiserver leases) come from the two files that create it.
//
// Run it on the module of the release (the Go module proxy serves the tree):
//
//	go mod download -json k8s.io/kubernetes@v1.37.2
//	go run ./store/testdata/kubekeys "$(go env GOMODCACHE)/k8s.io/kubernetes@v1.37.2" > store/testdata/kube-etcd-paths.txt
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: kubekeys <k8s.io/kubernetes module dir>")
	}
	dir := os.Args[1]
	base := filepath.Base(dir) // kubernetes@v1.37.2
	_, version, _ := strings.Cut(base, "@")
	sum := "unknown"
	if b, err := os.ReadFile(filepath.Join(dir, "..", "..", "cache", "download", "k8s.io", "kubernetes", "@v", version+".ziphash")); err == nil {
		sum = strings.TrimSpace(string(b))
	}
	rows := restPaths(filepath.Join(dir, "test/integration/etcd/data.go"))
	rows = append(rows, rawPaths(dir)...)
	fmt.Printf("# Where kube-apiserver stores each built-in resource in etcd: extracted by store/testdata/kubekeys.\n")
	fmt.Printf("# source: k8s.io/kubernetes@%s (Go module proxy, %s; tag %s of github.com/kubernetes/kubernetes)\n", version, sum, version)
	fmt.Printf("# rest: test/integration/etcd/data.go GetEtcdStorageData (ExpectedEtcdPath, ExpectedGVK, RemovedVersion)\n")
	fmt.Printf("# raw: pkg/registry/core/rest/storage_core.go and pkg/controlplane/instance.go (no encryption transformer)\n")
	fmt.Printf("# NS stands for the namespace; '-' for the core group or no value.\n")
	fmt.Printf("# kind\tgroup\tversion\tresource\tstored-group\tetcd-path\tremoved-in\n")
	for _, r := range rows {
		fmt.Println(strings.Join(r, "\t"))
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// restPaths reads the gvr(...): {ExpectedEtcdPath: ..., ExpectedGVK: ...}
// entries of data.go.
func restPaths(path string) [][]string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		log.Fatal(err)
	}
	var rows [][]string
	ast.Inspect(f, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		call, ok := kv.Key.(*ast.CallExpr)
		if !ok || ident(call.Fun) != "gvr" || len(call.Args) != 3 {
			return true
		}
		lit, ok := kv.Value.(*ast.CompositeLit)
		if !ok {
			return true
		}
		g, v, r := str(call.Args[0]), str(call.Args[1]), str(call.Args[2])
		var etcdPath, removed string
		stored := g
		for _, e := range lit.Elts {
			f := e.(*ast.KeyValueExpr)
			switch ident(f.Key) {
			case "ExpectedEtcdPath":
				etcdPath = concat(f.Value)
			case "RemovedVersion":
				removed = str(f.Value)
			case "ExpectedGVK":
				c := f.Value.(*ast.CallExpr) // gvkP(group, version, kind)
				stored = str(c.Args[0])
			}
		}
		if etcdPath == "" {
			log.Fatalf("%s: %s/%s %s has no ExpectedEtcdPath", fset.Position(kv.Pos()), g, v, r)
		}
		rows = append(rows, []string{"rest", dash(g), v, r, dash(stored), etcdPath, dash(removed)})
		return false
	})
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(strings.Join(a[1:4], "/"), strings.Join(b[1:4], "/")) })
	return rows
}

var (
	allocator = regexp.MustCompile(`serviceallocator\.NewEtcd\(mem, "(/ranges/[a-z]+)", serviceStorageConfig\.ForResource\(api\.Resource\("([a-z]+)"\)\)\)`)
	leasesCfg = regexp.MustCompile(`(?s)func \(c \*Config\) createLeaseReconciler\(\).*?NewConfig\(api\.Resource\("([A-Za-z]+)"\).*?NewLeases\(config, "(/[a-z]+/)"`)
)

// rawPaths finds the data stored outside the REST storage.
func rawPaths(dir string) [][]string {
	var rows [][]string
	seen := map[string]bool{}
	core, err := os.ReadFile(filepath.Join(dir, "pkg/registry/core/rest/storage_core.go"))
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range allocator.FindAllStringSubmatch(string(core), -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			rows = append(rows, []string{"raw", "-", "-", m[2], "-", "/registry" + m[1], "-"})
		}
	}
	inst, err := os.ReadFile(filepath.Join(dir, "pkg/controlplane/instance.go"))
	if err != nil {
		log.Fatal(err)
	}
	m := leasesCfg.FindStringSubmatch(string(inst))
	if m == nil || len(rows) == 0 {
		log.Fatal("the allocator or lease storage was not found: the source changed, update kubekeys")
	}
	rows = append(rows, []string{"raw", "-", "-", m[1], "-", "/registry" + m[2] + "IP", "-"})
	return rows
}

func ident(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

func str(e ast.Expr) string {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		log.Fatalf("not a string literal: %T", e)
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		log.Fatal(err)
	}
	return s
}

// concat evaluates "a" + namespace + "b", with NS for the namespace.
func concat(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.BinaryExpr:
		return concat(e.X) + concat(e.Y)
	case *ast.Ident:
		if e.Name != "namespace" {
			log.Fatalf("unexpected identifier %s in a path", e.Name)
		}
		return "NS"
	}
	return str(e)
}
