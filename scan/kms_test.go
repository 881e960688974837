package scan_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/envelope/kmsv2"
	"github.com/atrest-dev/atrest/scan"
	"github.com/atrest-dev/atrest/store"
	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

// kmsRow is what a test expects of a scan.KMSKey.
type kmsRow struct {
	values                          int
	sources                         []int // values per DEK source, most first
	read, stale, unreadable, unchkd int
	current                         string // "yes", "no" or "?"
}

func rowOf(k *scan.KMSKey) kmsRow {
	r := kmsRow{values: k.Values, read: k.Read, stale: k.Stale, unreadable: k.Unreadable, unchkd: k.Unchecked, current: "?"}
	for _, s := range k.DEKSources {
		r.sources = append(r.sources, s.Values)
	}
	if k.Current != nil {
		r.current = map[bool]string{true: "yes", false: "no"}[*k.Current]
	}
	return r
}

func kmsRows(rep *scan.Report) map[string]kmsRow {
	m := map[string]kmsRow{}
	for _, k := range rep.KMS {
		m[k.Provider+" "+k.KeyID+" "+k.DEKSourceType] = rowOf(k)
	}
	return m
}

func equalRows(a, b map[string]kmsRow) bool { return fmtRows(a) == fmtRows(b) }

// fmtRows prints rows sorted by key.
func fmtRows(m map[string]kmsRow) string {
	var lines []string
	for k, r := range m {
		lines = append(lines, fmt.Sprintf("%q: %+v", k, r))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestScanKMS: a real etcd with secrets kube-apiserver wrote through a local
// KMS v2 plugin on a unix socket: 10 by one apiserver and 5 by another
// (two DEK sources) under KEK A, then, after the plugin's KEK was rotated,
// 4 under KEK B; also a payload that is not an EncryptedObject and a value
// of a KMS provider the configuration does not name. The scan counts them
// per key ID and DEK source type, with the DEK sources they share, calls
// the KEK A values stale (as kube-apiserver does) and B current; with the
// plugin down it counts them all the same from their payloads, unchecked.
func TestScanKMS(t *testing.T) {
	c := etcdtest.New(t, 1)
	cli := c.TestClient(t)
	ctx := etcdtest.WaitContext(t)
	f := etcdtest.FillKMS(t, ctx, cli, []int{10, 5}, 4)
	o := kmsv2.Object{EncryptedData: make([]byte, 80), KeyID: []byte("elsewhere"), EncryptedDEKSource: []byte("d"), DEKSourceType: kmsv2.HKDFSeed}
	other, _ := o.AppendMarshal([]byte("k8s:enc:kms:v2:other:"))
	for k, v := range map[string]string{
		"/registry/secrets/kms/malformed": "k8s:enc:kms:v2:local:not an EncryptedObject",
		"/registry/secrets/kms/other":     string(other),
	} {
		if _, err := cli.Put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := envelope.ParseConfig([]byte(f.Config))
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	rep, err := scan.Scan(ctx, &store.Etcd{Client: cli}, cfg, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hkdf := kmsv2.HKDFSeed.String()
	want := map[string]kmsRow{
		"kms/local " + f.OldKeyID + " " + hkdf: {values: 15, sources: []int{10, 5}, read: 15, stale: 15, current: "no"},
		"kms/local " + f.NewKeyID + " " + hkdf: {values: 4, sources: []int{4}, read: 4, current: "yes"},
		"kms/local  ":                          {values: 1, unreadable: 1, current: "?"},
		"kms/other elsewhere " + hkdf:          {values: 1, sources: []int{1}, unreadable: 1, current: "?"},
	}
	if got := kmsRows(rep); !equalRows(got, want) {
		t.Errorf("kms rows:\n%v\nwant\n%v", fmtRows(got), fmtRows(want))
	}
	if len(rep.KMSPlugins) != 2 || !rep.KMSPlugins[0].Reachable || rep.KMSPlugins[0].CurrentKeyID != f.NewKeyID ||
		rep.KMSPlugins[1].Provider != "kms/other" || rep.KMSPlugins[1].Configured {
		t.Errorf("plugins: %+v %+v", rep.KMSPlugins[0], rep.KMSPlugins[1])
	}
	if s := rep.Resources[0]; s.Values != 21 || s.Stale != 15 || s.Unreadable != 2 || s.Unchecked != 0 || s.ByKey["kms/local"] != 20 {
		t.Errorf("secrets: %+v", s.Counts)
	}

	// kube-apiserver's verdict on every value agrees.
	var kstale, kerr int
	for _, r := range etcdtest.KubeReadAll(t, ctx, cli, f.Config, "/registry/") {
		switch {
		case r.Err != nil:
			kerr++
		case !bytes.Equal(r.Plain, f.Values[r.Key]):
			t.Errorf("%s: kube reads a different plaintext", r.Key)
		case r.Stale:
			kstale++
		}
	}
	if kstale != 15 || kerr != 2 {
		t.Errorf("kube-apiserver: %d stale, %d unreadable", kstale, kerr)
	}

	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"KMS PROVIDER", f.OldKeyID + "  " + hkdf + "  no", f.NewKeyID + "  " + hkdf + "  yes", "(malformed)",
		"kms/local: plugin reachable, writes key ID " + f.NewKeyID, "kms/other: no entry of the configuration names"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text report lacks %q:\n%s", s, text.String())
		}
	}
	t.Logf("\n%s", text.String())

	// The plugin down: the same counts from the payloads, unchecked.
	f.Close()
	down, err := envelope.ParseConfig([]byte(f.Config))
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	rep, err = scan.Scan(ctx, &store.Etcd{Client: cli}, down, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]kmsRow{
		"kms/local " + f.OldKeyID + " " + hkdf: {values: 15, sources: []int{10, 5}, unchkd: 15, current: "?"},
		"kms/local " + f.NewKeyID + " " + hkdf: {values: 4, sources: []int{4}, unchkd: 4, current: "?"},
		"kms/local  ":                          {values: 1, unreadable: 1, current: "?"},
		"kms/other elsewhere " + hkdf:          {values: 1, sources: []int{1}, unreadable: 1, current: "?"},
	}
	if got := kmsRows(rep); !equalRows(got, want) {
		t.Errorf("plugin down, kms rows:\n%v\nwant\n%v", fmtRows(got), fmtRows(want))
	}
	if s := rep.Resources[0]; s.Values != 21 || s.Stale != 0 || s.Unreadable != 2 || s.Unchecked != 19 {
		t.Errorf("plugin down, secrets: %+v", s.Counts)
	}
	if p := rep.KMSPlugins[0]; p.Reachable || p.Error == "" || !strings.Contains(strings.Join(rep.Warnings, "\n"), "kms/local is unreachable: 19 of its values unchecked") {
		t.Errorf("plugin down: %+v, warnings %q", p, rep.Warnings)
	}
	text.Reset()
	rep.WriteText(&text)
	for _, s := range []string{f.OldKeyID + "  " + hkdf + "  ?", "kms/local: plugin unreachable", "19 KMS v2 values not checked"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("plugin down, text report lacks %q:\n%s", s, text.String())
		}
	}
	t.Logf("\n%s", text.String())
}
