package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/rotate"
	"github.com/atrest-dev/atrest/scan"
	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

// TestScanRotateCommands drives atrest scan and atrest rotate against a real
// embedded etcd filled by kube-apiserver's transformers.
func TestScanRotateCommands(t *testing.T) {
	etcdtest.SilenceKlog()
	c := etcdtest.New(t, 1)
	cli := c.TestClient(t)
	ctx := etcdtest.WaitContext(t)
	mixed, err := etcdtest.FillMixed(ctx, cli, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "enc.yaml")
	if err := os.WriteFile(cfgPath, []byte(mixed.Current), 0o600); err != nil {
		t.Fatal(err)
	}
	ep := strings.Join(c.Endpoints, ",")

	code, out, errOut := runArgs("scan", "--config", cfgPath, "--endpoints", ep)
	if code != 0 || !strings.Contains(out, "CATASTROPHIC") || !strings.Contains(out, "secrets") || !strings.Contains(errOut, "46 values read") {
		t.Fatalf("scan: exit %d\n%s\n%s", code, out, errOut)
	}
	scanJSON := func() *scan.Report {
		t.Helper()
		code, out, errOut := runArgs("scan", "--config", cfgPath, "--endpoints", ep, "--json", "--quiet")
		if code != 0 || errOut != "" {
			t.Fatalf("scan --json: exit %d: %s", code, errOut)
		}
		var r scan.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	if r := scanJSON(); r.Totals.Stale != 19 || r.Totals.Unreadable != 4 || r.Totals.Plaintext != 7 || len(r.NonceReuse) != 1 {
		t.Fatalf("scan --json totals %+v", r.Totals)
	}

	code, out, _ = runArgs("rotate", "--config", cfgPath, "--endpoints", ep, "--dry-run", "--json")
	var s rotate.Summary
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s.Stale != 19 || s.Rewritten != 0 {
		t.Fatalf("rotate --dry-run: exit %d: %s", code, out)
	}
	code, out, _ = runArgs("rotate", "--config", cfgPath, "--endpoints", ep, "--apply")
	if code != 0 || !strings.Contains(out, "rewritten         19") {
		t.Fatalf("rotate --apply: exit %d: %s", code, out)
	}
	if r := scanJSON(); r.Totals.Stale != 0 || r.Totals.Plaintext != 0 || r.Totals.Unreadable != 4 || r.Values != 46 {
		t.Fatalf("after rotation: %+v", r.Totals)
	}

	for _, args := range [][]string{
		{"scan", "--endpoints", ep},
		{"scan", "--config", cfgPath},
		{"scan", "--config", cfgPath, "--endpoints", ep, "--snapshot", "x"},
		{"scan", "--config", cfgPath, "--endpoints", ep, "--cert", "c.pem"},
		{"rotate", "--config", cfgPath, "--endpoints", ep},
		{"rotate", "--config", cfgPath, "--endpoints", ep, "--dry-run", "--apply"},
		{"rotate", "--config", cfgPath, "--dry-run"},
	} {
		if code, _, _ := runArgs(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, _, _ := runArgs("scan", "--config", cfgPath, "--snapshot", filepath.Join(t.TempDir(), "missing.db")); code != 1 {
		t.Errorf("scan of a missing snapshot: exit %d, want 1", code)
	}
}
