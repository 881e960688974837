package scan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/snapshot"
	"go.uber.org/zap"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/scan"
	"github.com/atrest-dev/atrest/store"
	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

func TestMain(m *testing.M) {
	etcdtest.SilenceKlog()
	os.Exit(m.Run())
}

// TestScan fills a real etcd with values written by kube-apiserver's
// transformers and checks every number of the report, from the live etcd
// and from a snapshot of it, and against kube-apiserver's own verdict.
func TestScan(t *testing.T) {
	c := etcdtest.New(t, 1)
	cli := c.TestClient(t)
	ctx := etcdtest.WaitContext(t)
	dir := t.TempDir()
	mixed, err := etcdtest.FillMixed(ctx, cli, dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := envelope.ParseConfig([]byte(mixed.Current))
	if err != nil {
		t.Fatal(err)
	}
	var progress []int
	live := &store.Etcd{Client: cli, PageSize: 7, Name: "test"}
	rep, err := scan.Scan(ctx, live, cfg, scan.Options{Progress: func(n int) { progress = append(progress, n) }, ProgressEvery: 20})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{20, 40, 46}; !equalInts(progress, want) {
		t.Errorf("progress %v, want %v", progress, want)
	}
	type want struct {
		values, plaintext, stale, unreadable int
		byKey                                map[string]int
	}
	wants := map[string]want{
		"secrets":          {30, 3, 15, 3, map[string]int{"aesgcm/k2": 12, "aesgcm/k1": 8, "aescbc/c1": 5, "identity": 3, "aesgcm/k9": 2}},
		"configmaps":       {10, 4, 4, 0, map[string]int{"secretbox/s1": 6, "identity": 4}},
		"deployments.apps": {3, 0, 0, 0, map[string]int{"aescbc/c1": 3}},
		"pods":             {3, 0, 0, 1, map[string]int{"identity": 2, "aesgcm/k1": 1}},
	}
	if len(rep.Resources) != len(wants) {
		t.Fatalf("%d resources, want %d", len(rep.Resources), len(wants))
	}
	for _, r := range rep.Resources {
		w, ok := wants[r.Resource]
		if !ok {
			t.Fatalf("unexpected resource %q", r.Resource)
		}
		got := want{r.Values, r.Plaintext, r.Stale, r.Unreadable, unambiguous(t, r.ByKey)}
		if got.values != w.values || got.plaintext != w.plaintext || got.stale != w.stale || got.unreadable != w.unreadable || !equalMaps(got.byKey, w.byKey) {
			t.Errorf("%s: got %+v, want %+v", r.Resource, got, w)
		}
	}
	if rep.Values != 46 || rep.Totals.Values != 46 || rep.Totals.Stale != 19 || rep.Totals.Plaintext != 7 || rep.Totals.Unreadable != 4 {
		t.Errorf("totals %+v (values %d)", rep.Totals, rep.Values)
	}
	keys := map[string]int{}
	for _, k := range rep.Keys {
		keys[k.Key] = k.Values
		if strings.HasPrefix(k.Key, "aesgcm/") != (k.MaxWrites > 4e9) {
			t.Errorf("%s: max writes %g", k.Key, k.MaxWrites)
		}
	}
	if w := map[string]int{"aesgcm/k2": 12, "aesgcm/k1": 7, "aescbc/c1": 8, "identity": 9, "secretbox/s1": 6}; !equalMaps(keys, w) {
		t.Errorf("keys %v, want %v", keys, w)
	}
	if len(rep.NonceReuse) != 1 || rep.NonceReuse[0].Key != "aesgcm/k2" || rep.NonceReuse[0].Nonce != strings.Repeat("a5", 12) ||
		strings.Join(rep.NonceReuse[0].EtcdKeys, " ") != "/registry/secrets/default/reused-0 /registry/secrets/default/reused-1" {
		t.Errorf("nonce reuse %+v", rep.NonceReuse)
	}

	// kube-apiserver's verdict on every value agrees with the report.
	var kstale, kerr int
	for _, r := range etcdtest.KubeReadAll(t, ctx, cli, mixed.Current, "/registry/") {
		switch {
		case r.Err != nil:
			kerr++
		case r.Stale:
			kstale++
			fallthrough
		default:
			if !bytes.Equal(r.Plain, mixed.Values[r.Key]) {
				t.Errorf("%s: kube reads a different plaintext", r.Key)
			}
		}
	}
	if kstale != rep.Totals.Stale || kerr != rep.Totals.Unreadable {
		t.Errorf("kube-apiserver: %d stale, %d unreadable; report: %d, %d", kstale, kerr, rep.Totals.Stale, rep.Totals.Unreadable)
	}

	// The same report from a snapshot file.
	path := filepath.Join(t.TempDir(), "snap.db")
	if _, err := snapshot.SaveWithVersion(ctx, zap.NewNop(), clientv3.Config{Endpoints: c.Endpoints}, path); err != nil {
		t.Fatal(err)
	}
	snap := &store.Snapshot{Path: path}
	srep, err := scan.Scan(ctx, snap, cfg, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if srep.Revision != rep.Revision {
		t.Errorf("snapshot revision %d, live %d", srep.Revision, rep.Revision)
	}
	if srep.Verified != store.VerifiedSHA256 || rep.Verified != "" {
		t.Errorf("verified: snapshot %q, live %q", srep.Verified, rep.Verified)
	}
	srep.Source, rep.Source, srep.Verified = "", "", ""
	a, _ := json.Marshal(rep)
	b, _ := json.Marshal(srep)
	if !bytes.Equal(a, b) {
		t.Errorf("snapshot report differs:\nlive     %s\nsnapshot %s", a, b)
	}

	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"secrets", "aesgcm/k9", "CATASTROPHIC", "reused-1"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text report lacks %q:\n%s", s, text.String())
		}
	}
	t.Logf("\n%s", text.String())
}

func TestSnapshotNotEtcd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	os.WriteFile(path, bytes.Repeat([]byte{1}, 8192), 0o600)
	cfg, _ := envelope.ParseConfig([]byte("kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n"))
	if _, err := scan.Scan(context.Background(), &store.Snapshot{Path: path}, cfg, scan.Options{}); err == nil {
		t.Fatal("scanning a non-bbolt file succeeded")
	}
}

// unambiguous merges the labels of unconfigured keys whose name is
// ambiguous without the configuration ("aesgcm/k9?", about 1% of random
// payloads) into their plain form.
func unambiguous(t *testing.T, byKey map[string]int) map[string]int {
	out := map[string]int{}
	for l, n := range byKey {
		if p, ok := strings.CutSuffix(l, "?"); ok {
			t.Logf("label %s: %d values with an ambiguous key name", l, n)
			l = p
		}
		out[l] += n
	}
	return out
}

func equalInts(a, b []int) bool {
	return len(a) == len(b) && string(must(json.Marshal(a))) == string(must(json.Marshal(b)))
}

func equalMaps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func must[T any](v T, _ error) T { return v }
