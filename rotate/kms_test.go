package rotate_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/kmsplugin"
	"github.com/atrest-dev/atrest/rotate"
	"github.com/atrest-dev/atrest/scan"
	"github.com/atrest-dev/atrest/store"
	"github.com/atrest-dev/atrest/testkit/etcdtest"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// TestRotateKMS: secrets that kube-apiserver wrote through a local KMS v2
// plugin, 15 under KEK A and 4 under KEK B after the plugin's KEK was
// rotated, and 8 written before KMS was configured (6 under aesgcm, 2 in
// plaintext), under a configuration that writes with the plugin.
//
// With the plugin down, rotate reads nothing it could check: the KMS values
// are unchecked, the others stale but unwritable, nothing is written and it
// does not fail, in a dry run or not. With the plugin up, it rewrites every
// value not under KEK B; a scan then finds only KEK B, and kube-apiserver
// reads every value, fresh.
func TestRotateKMS(t *testing.T) {
	c := etcdtest.New(t, 1)
	cli := c.TestClient(t)
	ctx := etcdtest.WaitContext(t)
	f := etcdtest.FillKMS(t, ctx, cli, []int{10, 5}, 4)
	kr := etcdtest.NewKeyring("aesgcm/k1")
	w := &etcdtest.Writer{Client: cli, Dir: t.TempDir()}
	defer w.Close()
	values := f.Values
	for k, v := range fill(t, ctx, w, kr.Config(etcdtest.Rule{Resources: []string{"secrets"}, Providers: []string{"aesgcm:k1"}}), "secrets", "/registry/secrets/gcm/s", 6, 300) {
		values[k] = v
	}
	for k, v := range fill(t, ctx, w, kr.Config(etcdtest.Rule{Resources: []string{"secrets"}, Providers: []string{"identity"}}), "secrets", "/registry/secrets/plain/s", 2, 300) {
		values[k] = v
	}
	conf := kubepeer.Config{Rules: []kubepeer.Rule{{Resources: []string{"secrets"}, Providers: append(append(
		[]kubepeer.Provider{kubepeer.KMS("local", f.Server.Endpoint)}, kubepeer.Keyring(kr).Providers("aesgcm:k1")...), kubepeer.Identity)}}}
	load := func() *envelope.Config {
		t.Helper()
		cfg, err := envelope.ParseConfig([]byte(conf.YAML()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cfg.Close() })
		return cfg
	}

	f.Server.Stop()
	before := snapshotAll(t, ctx, cli)
	down := load()
	for _, dry := range []bool{true, false} {
		s, err := rotate.Rotate(ctx, cli, down, rotate.Options{DryRun: dry, Workers: 3})
		if want := (rotate.Summary{Values: 27, Stale: 8, Unchecked: 19, Unwritable: 8}); err != nil || s != want {
			t.Errorf("plugin down, dry run %v: %+v, %v; want %+v", dry, s, err, want)
		}
	}
	if after := snapshotAll(t, ctx, cli); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("a rotation with the plugin down changed etcd")
	}

	srv, err := kmsplugin.Start(f.Server.Endpoint, f.Plugin)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	up := load()
	s, err := rotate.Rotate(ctx, cli, up, rotate.Options{DryRun: true})
	if want := (rotate.Summary{Values: 27, Fresh: 4, Stale: 23}); err != nil || s != want {
		t.Errorf("plugin up, dry run: %+v, %v; want %+v", s, err, want)
	}
	s, err = rotate.Rotate(ctx, cli, up, rotate.Options{Workers: 3})
	if want := (rotate.Summary{Values: 27, Fresh: 4, Stale: 23, Rewritten: 23}); err != nil || s != want {
		t.Errorf("plugin up: %+v, %v; want %+v", s, err, want)
	}

	rep, err := scan.Scan(ctx, &store.Etcd{Client: cli}, load(), scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.KMS) != 1 || rep.KMS[0].KeyID != f.NewKeyID || rep.KMS[0].Values != 27 || rep.KMS[0].Read != 27 ||
		rep.KMS[0].Current == nil || !*rep.KMS[0].Current || rep.Totals.Stale != 0 || rep.Totals.Unreadable != 0 {
		t.Errorf("scan after the rotation: totals %+v, kms %+v", rep.Totals, rep.KMS)
	}
	reads := etcdtest.KubeReadAll(t, ctx, cli, conf.YAML(), "/registry/")
	if len(reads) != 27 {
		t.Fatalf("%d keys", len(reads))
	}
	for _, r := range reads {
		if r.Err != nil || r.Stale || !bytes.Equal(r.Plain, values[r.Key]) {
			t.Errorf("kube-apiserver reads %s: stale %v, %v", r.Key, r.Stale, r.Err)
		}
	}
}
