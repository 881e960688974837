package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/ctcheck"
)

func runArgs(args ...string) (code int, out, errOut string) {
	var o, e bytes.Buffer
	code = run(context.Background(), args, stdio{strings.NewReader(""), &o, &e})
	return code, o.String(), e.String()
}

func TestCtcheckList(t *testing.T) {
	code, out, _ := runArgs("ctcheck", "-list")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, id := range []string{"cbc-open/generic", "gcm-open/generic", "secretbox-open/generic", "aes-keysched/generic"} {
		if !strings.Contains(out, id) {
			t.Errorf("-list lacks %s:\n%s", id, out)
		}
	}
	code, out, _ = runArgs("ctcheck", "-list", "-target", "gcm-open")
	if code != 0 || strings.Contains(out, "cbc-open") || !strings.Contains(out, "gcm-open/generic") {
		t.Fatalf("-target gcm-open: exit %d\n%s", code, out)
	}
	code, out, _ = runArgs("ctcheck", "-list", "-size", "4096")
	if code != 0 || !strings.Contains(out, "cbc-open@4096/generic") || strings.Contains(out, "aes-block") {
		t.Fatalf("-size 4096: exit %d\n%s", code, out)
	}
}

func TestCtcheckUsage(t *testing.T) {
	for _, args := range [][]string{
		{"ctcheck", "-n", "0"},
		{"ctcheck", "-evict", "maybe"},
		{"ctcheck", "-target", "nosuch/*"},
		{"ctcheck", "-target", "[bad"},
		{"ctcheck", "extra"},
		{"ctcheck", "-nosuchflag"},
		{"ctcheck", "-size", "40"},
	} {
		if code, _, _ := runArgs(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, _, errOut := runArgs("ctcheck", "-h"); code != 0 || !strings.Contains(errOut, "Welch") {
		t.Errorf("-h: exit %d\n%s", code, errOut)
	}
}

// TestCtcheckRun runs one cheap target briefly in both eviction modes and
// checks the JSON and the table; it asserts nothing about |t|.
func TestCtcheckRun(t *testing.T) {
	code, out, errOut := runArgs("ctcheck", "-target", "aes-keysched/generic", "-n", "2000",
		"-evict", "both", "-evict-size", "65536", "-json")
	if code == 2 || code > 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rs []ctcheck.Result
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rs) != 2 || rs[0].Evict || !rs[1].Evict || rs[0].N[0] < 2000 || rs[1].N[1] < 2000 {
		t.Fatalf("results %+v", rs)
	}
	if (code == 1) != (rs[0].Leak || rs[1].Leak) {
		t.Fatalf("exit %d does not match the verdicts %+v", code, rs)
	}
	if !strings.Contains(errOut, "ctcheck: aes-keysched/generic") {
		t.Errorf("no progress on stderr: %q", errOut)
	}
	code, out, errOut = runArgs("ctcheck", "-target", "aes-keysched/generic", "-n", "1000", "-q")
	if code > 1 || !strings.Contains(out, "max |t|") || !strings.Contains(out, "aes-keysched") || errOut != "" && code == 0 {
		t.Fatalf("table: exit %d\n%s\n%s", code, out, errOut)
	}
}
