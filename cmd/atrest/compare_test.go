package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompareGolden runs "atrest compare" on the result files in
// testdata/compare and checks the exit status and output against golden files.
func TestCompareGolden(t *testing.T) {
	dir := filepath.Join("testdata", "compare")
	f := func(name string) string { return filepath.Join(dir, name) }
	for _, tc := range []struct {
		golden string
		args   []string
		code   int
	}{
		// Two files: columns are the files, OLD is the base.
		{"old_new.golden", []string{f("old.txt"), f("new.txt")}, 0},
		// The allocation gate catches secretbox's new allocation (no spread in
		// either sample, so judged exactly); the identity benchmark exists only
		// in NEW and is not compared.
		{"gate_allocs.golden", []string{"--gate", "allocs/op:5%,B/op:5%", f("old.txt"), f("new.txt")}, 1},
		// Reversed, aesgcm is 20% slower with p=0.002: past a 5% gate, within 25%.
		{"gate_time_fail.golden", []string{"--units", "sec/op", "--gate", "ns/op:5%", f("new.txt"), f("old.txt")}, 1},
		{"gate_time_pass.golden", []string{"--units", "sec/op", f("new.txt"), f("old.txt"), "--gate", "sec/op:25%"}, 0},
		// One file, columns by implementation as "make bench" prints it.
		{"impl.golden", []string{"--col", "/impl@(kubernetes atrest stdlib)", "--row", ".name /provider /op /size",
			"--units", "sec/op,B/op,allocs/op", f("impl.txt")}, 0},
		{"impl_md.golden", []string{"--format", "md", "--col", "/impl@(kubernetes atrest)", "--row", ".name /provider /op /size",
			"--units", "sec/op,allocs/op", f("impl.txt")}, 0},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"compare"}, tc.args...), stdio{strings.NewReader(""), &out, &errb})
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, errb.String())
			}
			checkGolden(t, f(tc.golden), out.Bytes())
		})
	}
}

// TestCompareWarnings: lines that are not benchmark results are reported on
// standard error and the rest is tabulated.
func TestCompareWarnings(t *testing.T) {
	var out, errb bytes.Buffer
	dir := filepath.Join("testdata", "compare")
	code := run(context.Background(), []string{"compare", "--units", "sec/op", "--col", "/impl", filepath.Join(dir, "syntax.txt")},
		stdio{strings.NewReader(""), &out, &errb})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	checkGolden(t, filepath.Join(dir, "syntax.stdout.golden"), out.Bytes())
	checkGolden(t, filepath.Join(dir, "syntax.stderr.golden"), errb.Bytes())
}

// TestCompareChart checks that --svg writes well-formed SVG with one line per
// implementation and panel, and that it matches its golden file.
func TestCompareChart(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "chart.svg")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"compare", "--col", "/impl", "--svg", svg, "--title", "test chart",
		filepath.Join("testdata", "compare", "impl.txt")}, stdio{strings.NewReader(""), &out, &errb})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	data, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	lines := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			lines++
		}
	}
	if want := 2 * 3; lines != want { // 2 panels (aesgcm, aescbc encrypt) × 3 impls
		t.Errorf("%d polylines, want %d", lines, want)
	}
	checkGolden(t, filepath.Join("testdata", "compare", "chart.svg.golden"), data)
}

func TestCompareUsage(t *testing.T) {
	old := filepath.Join("testdata", "compare", "old.txt")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "usage: atrest compare"},
		{[]string{old}, 2, "want OLD and NEW"},
		{[]string{"--gate", "allocs/op", old, old}, 2, "bad gate specification"},
		{[]string{"--gate", "allocs/op:-1%", old, old}, 2, "bad gate specification"},
		{[]string{"--alpha", "2", old, old}, 2, "--alpha"},
		{[]string{"--format", "html", old, old}, 2, "--format"},
		{[]string{"--gate", "cycles/op:5%", old, old}, 1, "no results have unit"},
		{[]string{old, filepath.Join("testdata", "compare", "missing.txt")}, 1, "missing.txt"},
		{[]string{"--units", "furlongs/op", old, old}, 1, "no results have unit"},
		{[]string{"--gate", "allocs/op:0%", old, old}, 0, ": pass"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"compare"}, tc.args...), stdio{strings.NewReader(""), &out, &errb})
		if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.msg) {
			t.Errorf("compare %q: exit %d, want %d with %q; output:\n%s%s", tc.args, code, tc.code, tc.msg, out.String(), errb.String())
		}
	}
}
