package scan_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/scan"
	"github.com/atrest-dev/atrest/store"
	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

// memSource is a Source over fixed values, in key order.
type memSource []store.KV

func (m memSource) Each(_ context.Context, prefix string, fn func(store.KV) error) error {
	for _, kv := range m {
		if bytes.HasPrefix(kv.Key, []byte(prefix)) {
			if err := fn(kv); err != nil {
				return err
			}
		}
	}
	return nil
}

func (memSource) String() string { return "memory" }

func kv(key string, value []byte) store.KV {
	return store.KV{Key: []byte(key), Value: value, ModRevision: 1}
}

func resourceByName(rep *scan.Report, name string) *scan.Resource {
	for _, r := range rep.Resources {
		if r.Resource == name {
			return r
		}
	}
	return nil
}

// TestScanResourcesOfV137: resources new in Kubernetes 1.33-1.37 were
// taken for core resources (no rule matched, so their plaintext values
// passed as expected), and a key under an unknown segment was audited
// against a guessed rule. Now they resolve to their group's rule, and
// unknown segments are reported, not audited.
func TestScanResourcesOfV137(t *testing.T) {
	kr := etcdtest.NewKeyring("aesgcm/k1")
	cfg, err := envelope.ParseConfig([]byte(kr.Config(
		etcdtest.Rule{Resources: []string{"*.certificates.k8s.io", "*.resource.k8s.io", "*.scheduling.k8s.io", "*.internal.apiserver.k8s.io"}, Providers: []string{"aesgcm:k1", "identity"}},
		etcdtest.Rule{Resources: []string{"*.*"}, Providers: []string{"aesgcm:k1"}},
	)))
	if err != nil {
		t.Fatal(err)
	}
	src := memSource{
		kv("/registry/devicetaintrules/t1", []byte("k8s\x00plain")),
		kv("/registry/podcertificaterequests/ns/r1", []byte("k8s\x00plain")),
		kv("/registry/podgroups/ns/g1", []byte("k8s\x00plain")),
		kv("/registry/ranges/serviceips", []byte("k8s\x00bitmap")),
		kv("/registry/resourcepoolstatusrequests/r1", []byte("k8s\x00plain")),
		kv("/registry/somethingnew/ns/x", []byte("k8s\x00plain")),
		kv("/registry/somethingnew/ns/y", []byte("k8s:enc:aesgcm:v1:k1:"+strings.Repeat("z", 40))),
		kv("/registry/storageversions/sv1", []byte("k8s\x00plain")),
		kv("/registry/workloads/ns/w1", []byte("k8s\x00plain")),
	}
	rep, err := scan.Scan(context.Background(), src, cfg, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"devicetaintrules.resource.k8s.io", "podcertificaterequests.certificates.k8s.io", "podgroups.scheduling.k8s.io",
		"resourcepoolstatusrequests.resource.k8s.io", "storageversions.internal.apiserver.k8s.io", "workloads.scheduling.k8s.io"} {
		r := resourceByName(rep, name)
		if r == nil || r.Plaintext != 1 || !r.Encrypted || r.Chain[0] != "aesgcm/k1" {
			t.Errorf("%s: %+v", name, r)
		}
	}
	// Allocation bitmaps are never encrypted: plaintext there is expected.
	if r := resourceByName(rep, "serviceipallocations"); r == nil || !r.Unencrypted || r.Plaintext != 0 || r.Encrypted {
		t.Errorf("serviceipallocations: %+v", r)
	}
	if rep.Totals.Unresolved != 2 || len(rep.Unresolved) != 1 || rep.Unresolved[0].Segment != "somethingnew" ||
		rep.Unresolved[0].ByKey["identity"] != 1 || rep.Unresolved[0].ByKey["aesgcm/k1"] != 1 || rep.Totals.Values != 9 {
		t.Errorf("unresolved: totals %+v, %+v", rep.Totals, rep.Unresolved)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "somethingnew") {
		t.Errorf("warnings %q", rep.Warnings)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	if !strings.Contains(text.String(), "unknown resources: 2 values") || !strings.Contains(text.String(), "(never encrypted)") {
		t.Errorf("text report:\n%s", text.String())
	}
}

// TestScanColonKeyNames: scan.Label split key names at the first ':',
// counting key "a:b" as "aesgcm/a" and reading the nonce 2 bytes off. The
// entry that read the value names it now, and nonce reuse is reported
// under the right key with the right nonce.
func TestScanColonKeyNames(t *testing.T) {
	kr := etcdtest.NewKeyring("aesgcm/a:b", "aesgcm/a")
	yaml := kr.Config(etcdtest.Rule{Resources: []string{"secrets"}, Providers: []string{"aesgcm:a:b,a"}})
	cfg, err := envelope.ParseConfig([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := cfg.For("secrets")
	key, _ := etcdtest.DecodeKey(kr["aesgcm/a:b"])
	g, err := aead.NewGCMWithNonces(key, fixedNonce{})
	if err != nil {
		t.Fatal(err)
	}
	fixed, _ := envelope.NewChain(envelope.Entry{Provider: envelope.AESGCM, Name: "a:b", Cipher: g})
	var src memSource
	for i, k := range []string{"/registry/secrets/ns/r0", "/registry/secrets/ns/r1"} {
		v, err := fixed.Encrypt(nil, []byte{byte(i)}, []byte(k))
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, kv(k, v))
	}
	for i := range 20 {
		k := "/registry/secrets/ns/s" + string(rune('a'+i))
		v, _ := ch.Encrypt(nil, []byte("v"), []byte(k))
		src = append(src, kv(k, v))
	}
	rep, err := scan.Scan(context.Background(), src, cfg, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := resourceByName(rep, "secrets")
	if r == nil || r.ByKey["aesgcm/a:b"] != 22 || len(r.ByKey) != 1 || r.Unreadable != 0 {
		t.Fatalf("secrets: %+v", r)
	}
	if len(rep.NonceReuse) != 1 || rep.NonceReuse[0].Key != "aesgcm/a:b" || rep.NonceReuse[0].Nonce != strings.Repeat("a5", 12) {
		t.Fatalf("nonce reuse %+v", rep.NonceReuse)
	}
}

type fixedNonce struct{}

func (fixedNonce) FillNonce(b []byte) error {
	for i := range b {
		b[i] = 0xa5
	}
	return nil
}

// TestScanTextEscapesKeys: etcd keys, key names and key segments come from
// the data; a terminal escape sequence in one was printed raw.
func TestScanTextEscapesKeys(t *testing.T) {
	kr := etcdtest.NewKeyring("aesgcm/k")
	cfg, _ := envelope.ParseConfig([]byte(kr.Config(etcdtest.Rule{Resources: []string{"secrets"}, Providers: []string{"aesgcm:k"}})))
	esc := "\x1b[2J\x1b[H"
	src := memSource{
		kv("/registry/evil"+esc+"/x", []byte("v")),
		kv("/registry/secrets/ns/"+esc+"plain", []byte("k8s\x00secret")),
		kv("/registry/secrets/ns/z", []byte("k8s:enc:aesgcm:v1:"+esc+":"+strings.Repeat("z", 30))),
	}
	rep, err := scan.Scan(context.Background(), src, cfg, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	if strings.ContainsRune(out, 0x1b) {
		t.Fatalf("raw escape in the text report:\n%q", out)
	}
	for _, s := range []string{`"/registry/secrets/ns/\x1b[2J\x1b[Hplain"`, `"evil\x1b[2J\x1b[H"`, `"aesgcm/\x1b[2J\x1b[H"`} {
		if !strings.Contains(out, s) {
			t.Errorf("text report lacks %s:\n%s", s, out)
		}
	}
	var js bytes.Buffer
	rep.WriteJSON(&js)
	if bytes.ContainsRune(js.Bytes(), 0x1b) {
		t.Fatal("raw escape in the JSON report")
	}
}
