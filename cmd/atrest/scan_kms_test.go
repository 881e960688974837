package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/kmsplugin"
	"github.com/atrest-dev/atrest/rotate"
	"github.com/atrest-dev/atrest/scan"
	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

// TestScanRotateKMSCommands drives atrest scan and atrest rotate on a real
// etcd whose secrets kube-apiserver wrote through a local KMS v2 plugin, 15
// under KEK A (two apiservers: two DEK sources) and 4 under KEK B after a
// KEK rotation, plus a copy of a KEK A value under an etcd key with a
// terminal escape (unreadable once decrypted: the etcd key is
// authenticated). With the plugin down, scan reports every value per key ID
// and DEK source, unchecked, and exits 5 (0 with --allow-unchecked), and
// rotate leaves them alone without failing;
// with it up, scan calls the KEK A values stale (and the copy unreadable,
// its key quoted), rotate --apply rewrites them, and a second scan finds
// only KEK B but for the copy.
func TestScanRotateKMSCommands(t *testing.T) {
	c := etcdtest.New(t, 1)
	cli := c.TestClient(t)
	ctx := etcdtest.WaitContext(t)
	f := etcdtest.FillKMS(t, ctx, cli, []int{10, 5}, 4)
	dir := f.Dir
	const odd = "/registry/secrets/kms/\x1b[2J"
	r, err := cli.Get(ctx, f.Old[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, odd, string(r.Kvs[0].Value)); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "enc.yaml")
	if err := os.WriteFile(cfgPath, []byte(f.Config), 0o600); err != nil {
		t.Fatal(err)
	}
	ep := strings.Join(c.Endpoints, ",")
	scanJSON := func(wantCode int) *scan.Report {
		t.Helper()
		code, out, errOut := runArgs("scan", "--config", cfgPath, "--endpoints", ep, "--json", "--quiet")
		var r scan.Report
		if code != wantCode || json.Unmarshal([]byte(out), &r) != nil {
			t.Fatalf("scan --json: exit %d, want %d: %s\n%s", code, wantCode, out, errOut)
		}
		return &r
	}
	type row struct {
		values, sources, stale, unchecked int
		current                           string
	}
	rows := func(r *scan.Report) map[string]row {
		m := map[string]row{}
		for _, k := range r.KMS {
			cur := "?"
			if k.Current != nil {
				cur = map[bool]string{true: "yes", false: "no"}[*k.Current]
			}
			m[k.KeyID] = row{k.Values, len(k.DEKSources), k.Stale, k.Unchecked, cur}
		}
		return m
	}

	// The plugin down.
	f.Server.Stop()
	// An audit that could check nothing does not pass: exit 5 after the
	// full report, unless --allow-unchecked.
	code, out, errOut := runArgs("scan", "--config", cfgPath, "--endpoints", ep)
	if code != 5 || !strings.Contains(out, "UNCHECKED") || !strings.Contains(out, "kms/local: plugin unreachable") ||
		!strings.Contains(out, f.OldKeyID) || !strings.Contains(errOut, "warning: the KMS plugin of kms/local is unreachable: 20 of its values unchecked") ||
		!strings.Contains(errOut, "20 of 20 values could not be checked") || !strings.Contains(errOut, "--allow-unchecked") {
		t.Fatalf("scan, plugin down: exit %d, want %d\n%s\n%s", code, 5, out, errOut)
	}
	t.Logf("\n%s", out)
	if code, out2, errOut := runArgs("scan", "--config", cfgPath, "--endpoints", ep, "--allow-unchecked"); code != 0 || out2 != out {
		t.Fatalf("scan --allow-unchecked, plugin down: exit %d, or another report\n%s\n%s", code, out2, errOut)
	}
	want := map[string]row{f.OldKeyID: {16, 2, 0, 16, "?"}, f.NewKeyID: {4, 1, 0, 4, "?"}}
	if got := rows(scanJSON(5)); len(got) != 2 || got[f.OldKeyID] != want[f.OldKeyID] || got[f.NewKeyID] != want[f.NewKeyID] {
		t.Errorf("scan --json, plugin down: %+v, want %+v", got, want)
	}
	code, out, _ = runArgs("rotate", "--config", cfgPath, "--endpoints", ep, "--apply", "--quiet")
	if code != 0 || !strings.Contains(out, "unchecked         20  KMS v2 values whose plugin was unreachable") {
		t.Fatalf("rotate, plugin down: exit %d\n%s", code, out)
	}

	// The plugin up.
	srv, err := kmsplugin.Start(f.Server.Endpoint, f.Plugin)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	code, out, _ = runArgs("scan", "--config", cfgPath, "--endpoints", ep, "--quiet")
	if code != 0 || strings.Contains(out, "not checked") || !strings.Contains(out, "kms/local: plugin reachable, writes key ID "+f.NewKeyID) {
		t.Fatalf("scan, plugin up: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, `unreadable: "/registry/secrets/kms/\x1b[2J"`) || strings.Contains(out, "\x1b") {
		t.Errorf("scan, plugin up: the odd etcd key is not quoted:\n%s", out)
	}
	t.Logf("\n%s", out)
	want = map[string]row{f.OldKeyID: {16, 2, 15, 0, "no"}, f.NewKeyID: {4, 1, 0, 0, "yes"}}
	if got := rows(scanJSON(0)); len(got) != 2 || got[f.OldKeyID] != want[f.OldKeyID] || got[f.NewKeyID] != want[f.NewKeyID] {
		t.Errorf("scan --json, plugin up: %+v, want %+v", got, want)
	}
	code, out, _ = runArgs("rotate", "--config", cfgPath, "--endpoints", ep, "--apply", "--json")
	var s rotate.Summary
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s != (rotate.Summary{Values: 20, Fresh: 4, Stale: 15, Rewritten: 15, Unreadable: 1}) {
		t.Fatalf("rotate --apply: exit %d: %s", code, out)
	}
	after := scanJSON(0)
	// KEK B: the apiserver's DEK source and the rotation's; KEK A: the copy.
	if got := rows(after); len(got) != 2 || got[f.NewKeyID] != (row{19, 2, 0, 0, "yes"}) || got[f.OldKeyID] != (row{1, 1, 0, 0, "no"}) || after.Totals.Unreadable != 1 {
		t.Errorf("scan after the rotation: %+v, totals %+v", got, after.Totals)
	}
}
