package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func runNonceCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"nonce"}, args...), stdio{strings.NewReader(""), &out, &errb})
	return code, out.String(), errb.String()
}

func TestNonceDefaultScenarios(t *testing.T) {
	code, out, errs := runNonceCmd(t)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"== 200,000 writes", "== 2^32 writes", "== 100 writes/s for a year = 3.16e+09 (2^31.6) writes",
		"aesgcm", "secretbox", "aescbc", "kmsv2-counter", "kmsv2-xnonce", "atrest", "atrest-r32",
		// Exact values: 200000·199999/2^97 = 2^-61.8; 2^32 writes: 2^-33.0.
		"2^-61.8 (2.5e-19)", "2^-33.0 (1.2e-10)",
		// Max writes for random 96-bit nonces at 2^-32: 2^32.5.
		"6.07e+09 (2^32.5)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestNonceProviderAndRate(t *testing.T) {
	code, out, errs := runNonceCmd(t, "--provider", "aesgcm", "--rate", "100/s", "--lifetime", "1y", "--target", "2^-32")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if strings.Contains(out, "secretbox") || !strings.Contains(out, "aesgcm") {
		t.Errorf("--provider aesgcm printed other schemes:\n%s", out)
	}
	if !strings.Contains(out, "1.9 years") || !strings.Contains(out, "2^-33.9") {
		t.Errorf("want a 1.9-year key lifetime and 2^-33.9 risk:\n%s", out)
	}
	code, out, _ = runNonceCmd(t, "--provider", "kmsv2-counter", "--writes", "1e6", "--restores", "1", "--replay", "1000")
	// 1000 replayed writes, each colliding with probability 2^-32.
	if code != 0 || !strings.Contains(out, "2^-22.0") {
		t.Errorf("kmsv2-counter with one restore: exit %d\n%s", code, out)
	}
}

func TestNonceBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--provider", "rot13"},
		{"--writes", "lots"},
		{"--writes", "-5"},
		{"--target", "2"},
		{"--target", "0"},
		{"--rate", "0"},
		{"--rate", "5/fortnight"},
		{"--lifetime", "1y"},
		{"--writes", "10", "--rate", "1", "--lifetime", "1d"},
		{"--rate", "1", "--lifetime", "soon"},
		{"--starts", "-1"},
		{"--simulate", "--widths", "4"},
		{"--simulate", "--trials", "1"},
		{"--simulate", "--progress", "loud"},
		{"extra"},
	} {
		code, _, errs := runNonceCmd(t, args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", args, code, errs)
		}
		if errs == "" {
			t.Errorf("%q: no message", args)
		}
	}
	if code, _, errs := runNonceCmd(t, "-h"); code != 0 || !strings.Contains(errs, "--simulate") {
		t.Errorf("-h: exit %d, %q", code, errs)
	}
}

func TestNonceSimulate(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runNonceCmd(t, "--provider", "aesgcm", "--writes", "1", "--simulate", "--widths", "16-18", "--trials", "300", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	if !strings.Contains(out, "at 27 of 27 points") {
		t.Errorf("agreement line missing:\n%s", out)
	}
	if !strings.Contains(errs, "simulating: 900/900 trials (100%)") {
		t.Errorf("plain progress lines missing on a non-terminal stderr: %q", errs)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "nonce-sim.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(svg, new(struct{})); err != nil {
		t.Errorf("nonce-sim.svg is not XML: %v", err)
	}
	if txt, err := os.ReadFile(filepath.Join(dir, "nonce-sim.txt")); err != nil || !bytes.Contains(txt, []byte("18\t")) && !bytes.Contains(txt, []byte("  18 ")) {
		t.Errorf("nonce-sim.txt: %v\n%s", err, txt)
	}
	_, _, errs = runNonceCmd(t, "--writes", "1", "--simulate", "--widths", "16", "--trials", "50", "--out", dir, "--progress", "bar")
	if !strings.Contains(errs, "\rsimulating [") {
		t.Errorf("bar not drawn: %q", errs)
	}
}

func TestNonceMarkdown(t *testing.T) {
	code, out, _ := runNonceCmd(t, "--markdown", "--provider", "atrest", "--writes", "2^32")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"| scheme | nonce | P(collision) | max writes at 2^-32 |", "|---|---|---|---|", `prefix(64) \|\| counter(32)`} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown output lacks %q:\n%s", want, out)
		}
	}
}

// TestNonceGolden pins the output of "atrest nonce", tables and errors, byte
// for byte against testdata/nonce/<name>.stdout and .stderr.
func TestNonceGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"default", nil, 0},
		{"markdown", []string{"--markdown"}, 0},
		{"rate_lifetime", []string{"--provider", "aesgcm", "--rate", "100/s", "--lifetime", "1y"}, 0},
		{"lifetimes", []string{"--rate", "6000/min", "--starts", "12"}, 0},
		{"restored", []string{"--provider", "atrest", "--writes", "2^40", "--restores", "2", "--replay", "10", "--rate", "1e6/h"}, 0},
		{"writes", []string{"--provider", "kmsv2-xnonce", "--writes", "1.5*2^40", "--target", "1e-9", "--markdown"}, 0},
		{"restores", []string{"--provider", "kmsv2-counter", "--writes", "1e6", "--restores", "1", "--replay", "1000"}, 0},
		{"tiny_target", []string{"--provider", "aescbc", "--writes", "3", "--target", "2^-300", "--rate", "1/d"}, 0},
		{"bad_rate", []string{"--rate", "5/fortnight"}, 2},
		{"bad_lifetime", []string{"--rate", "1", "--lifetime", "soon"}, 2},
		{"bad_widths", []string{"--writes", "1", "--simulate", "--widths", "40-50"}, 2},
		{"bad_provider", []string{"--provider", "rot13"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runNonceCmd(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, errs)
			}
			dir := filepath.Join("testdata", "nonce")
			checkGolden(t, filepath.Join(dir, tc.name+".stdout"), []byte(out))
			checkGolden(t, filepath.Join(dir, tc.name+".stderr"), []byte(errs))
		})
	}
}

// TestNonceSimulateGolden pins --simulate with a fixed seed: the table on
// standard output and in nonce-sim.txt, the progress lines and the chart.
// Only the run time and the output directory vary, and are replaced.
func TestNonceSimulateGolden(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runNonceCmd(t, "--provider", "aesgcm", "--writes", "1", "--simulate", "--widths", "16,18-19",
		"--trials", "200", "--seed", "7", "--out", dir, "--progress", "lines")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	took := regexp.MustCompile(`Took [0-9a-zµ.]+\.`)
	norm := func(s string) []byte {
		return []byte(took.ReplaceAllString(strings.ReplaceAll(s, dir, "OUT"), "Took T."))
	}
	golden := filepath.Join("testdata", "nonce")
	checkGolden(t, filepath.Join(golden, "simulate.stdout"), norm(out))
	checkGolden(t, filepath.Join(golden, "simulate.stderr"), []byte(errs))
	txt, err := os.ReadFile(filepath.Join(dir, "nonce-sim.txt"))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join(golden, "simulate.txt"), norm(string(txt)))
	svg, err := os.ReadFile(filepath.Join(dir, "nonce-sim.svg"))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join(golden, "simulate.svg"), svg)
}
