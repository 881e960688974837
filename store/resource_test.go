package store_test

import (
	"bufio"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/scheme"

	"github.com/atrest-dev/atrest/store"
)

func TestResourceOf(t *testing.T) {
	for key, want := range map[string]string{
		"/registry/secrets/default/a":                                   "secrets",
		"/registry/configmaps/kube-system/b":                            "configmaps",
		"/registry/deployments/default/d":                               "deployments.apps",
		"/registry/minions/node-1":                                      "nodes",
		"/registry/services/specs/default/kubernetes":                   "services",
		"/registry/services/endpoints/default/kubernetes":               "endpoints",
		"/registry/apiregistration.k8s.io/apiservices/v1.":              "apiservices.apiregistration.k8s.io",
		"/registry/apiextensions.k8s.io/customresourcedefinitions/x.io": "customresourcedefinitions.apiextensions.k8s.io",
		"/registry/example.com/widgets/ns/w":                            "widgets.example.com",
		"/registry/podcertificaterequests/ns/r":                         "podcertificaterequests.certificates.k8s.io",
		"/registry/clustertrustbundles/example.com:signer:a":            "clustertrustbundles.certificates.k8s.io",
	} {
		if got, err := store.ResourceOf(key, "/registry"); got.Name != want || got.Unencrypted || err != nil {
			t.Errorf("ResourceOf(%q) = %+v, %v; want %q", key, got, err, want)
		}
	}
	for _, key := range []string{"/registry/somethingnew/x", "/registry/services/other/x", "/registry/example.com", "/registry/example.com/", "/registry/", "/registry/ranges/new"} {
		if got, err := store.ResourceOf(key, "/registry"); !errors.Is(err, store.ErrUnknownResource) || got.Name != "" {
			t.Errorf("ResourceOf(%q) = %+v, %v; want ErrUnknownResource", key, got, err)
		}
	}
	if _, err := store.ResourceOf("/other/secrets/x", "/registry"); !errors.Is(err, store.ErrOutsidePrefix) {
		t.Errorf("outside the prefix: %v", err)
	}
	if got, err := store.ResourceOf("/k8s/secrets/ns/x", "/k8s/"); got.Name != "secrets" || err != nil {
		t.Errorf("prefix with a slash: %+v %v", got, err)
	}
}

// kubePaths reads testdata/kube-etcd-paths.txt: kind, group, version,
// resource, stored group, etcd path, removed in.
func kubePaths(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open("testdata/kube-etcd-paths.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			r := strings.Split(line, "\t")
			if len(r) != 7 {
				t.Fatalf("bad line %q", line)
			}
			for i := range r {
				if r[i] == "-" {
					r[i] = ""
				}
			}
			rows = append(rows, r)
		}
	}
	if len(rows) < 100 {
		t.Fatalf("only %d rows", len(rows))
	}
	return rows
}

// TestKubeKeys checks the key table against where kube-apiserver v1.37.2
// stores every built-in resource (and the custom resources of its storage
// test), extracted from its source: every path resolves to the resource, in
// the group it is stored as, and every table entry is used by some path.
func TestKubeKeys(t *testing.T) {
	used := map[string]bool{}
	for _, r := range kubePaths(t) {
		kind, resource, stored, path := r[0], r[3], r[4], strings.ReplaceAll(r[5], "NS", "ns")
		want := resource
		if stored != "" {
			want += "." + stored
		}
		got, err := store.ResourceOf(path, "/registry")
		if err != nil || got.Name != want || got.Unencrypted != (kind == "raw") {
			t.Errorf("%s %s/%s %s: ResourceOf(%q) = %+v, %v; want %q", kind, r[1], r[2], resource, path, got, err, want)
		}
		customTestGroup := strings.Contains(stored, ".") && !strings.HasSuffix(stored, ".k8s.io") // cr.bar.com, ...
		if !customTestGroup && !store.BuiltIn(want) {
			t.Errorf("%s is not BuiltIn", want)
		}
		seg := strings.SplitN(strings.TrimPrefix(path, "/registry/"), "/", 3)
		used[seg[0]] = true
		used[seg[0]+"/"+seg[1]] = true
	}
	for _, seg := range store.KubeKeySegments() {
		if !used[seg] {
			t.Errorf("table entry %q: no built-in resource of kube-apiserver v1.37.2 is stored there", seg)
		}
	}
}

// TestSchemeGroupsKnown: every API group of k8s.io/api (client-go's
// scheme) has a resource in the table, or is known to store none.
func TestSchemeGroupsKnown(t *testing.T) {
	noStorage := map[string]string{
		"authentication.k8s.io": "reviews and requests, never stored",
		"authorization.k8s.io":  "reviews, never stored",
		"events.k8s.io":         "stored as core events",
		"extensions":            "removed; its resources moved to apps and networking.k8s.io",
	}
	seen := map[string]bool{}
	for _, gv := range scheme.Scheme.PrioritizedVersionsAllGroups() {
		g := gv.Group
		if seen[g] {
			continue
		}
		seen[g] = true
		if _, ok := noStorage[g]; ok {
			continue
		}
		if !store.BuiltInGroup(g) {
			t.Errorf("API group %q of k8s.io/api has no resource in the key table", g)
		}
	}
	if len(seen) < 20 {
		t.Fatalf("only %d groups in the scheme", len(seen))
	}
	groups := slices.Sorted(func(yield func(string) bool) {
		for g := range seen {
			if !yield(g) {
				return
			}
		}
	})
	t.Logf("%d groups: %v", len(groups), groups)
}

func TestSuggest(t *testing.T) {
	for in, want := range map[string]string{
		"Secrets": "secrets", "secret": "secrets", "SECRETS": "secrets",
		"deployments": "deployments.apps", "deployment": "deployments.apps", "Deployment.apps": "deployments.apps",
		"ingress": "ingresses.networking.k8s.io", "node": "nodes",
		"widgets.example.com": "", "secrets": "",
	} {
		if got := store.Suggest(in); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrefixes(t *testing.T) {
	for _, c := range []struct{ etcd, prefix, wantEtcd, wantPrefix string }{
		{"", "", "/registry", "/registry/"},
		{"/k8s/", "", "/k8s/", "/k8s/"},
		{"/k8s", "", "/k8s", "/k8s/"},
		{"", "/registry/secrets/", "/registry", "/registry/secrets/"},
	} {
		e, p, err := store.Prefixes(c.etcd, c.prefix)
		if e != c.wantEtcd || p != c.wantPrefix || err != nil {
			t.Errorf("Prefixes(%q, %q) = %q, %q, %v; want %q, %q", c.etcd, c.prefix, e, p, err, c.wantEtcd, c.wantPrefix)
		}
	}
	for _, c := range [][2]string{{"/k8s", "/registry/"}, {"", "/"}, {"", "/registry"}, {"/k8s", "/k8sx/"}} {
		if _, _, err := store.Prefixes(c[0], c[1]); !errors.Is(err, store.ErrOutsidePrefix) {
			t.Errorf("Prefixes(%q, %q): %v, want ErrOutsidePrefix", c[0], c[1], err)
		}
	}
}
