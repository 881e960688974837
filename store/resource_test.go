package store_test

import (
	"testing"

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
		"/registry/somethingnew/x":                                      "somethingnew",
		"/other/secrets/x":                                              "",
	} {
		if got := store.ResourceOf(key, "/registry"); got != want {
			t.Errorf("ResourceOf(%q) = %q, want %q", key, got, want)
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
		e, p := store.Prefixes(c.etcd, c.prefix)
		if e != c.wantEtcd || p != c.wantPrefix {
			t.Errorf("Prefixes(%q, %q) = %q, %q; want %q, %q", c.etcd, c.prefix, e, p, c.wantEtcd, c.wantPrefix)
		}
	}
}
