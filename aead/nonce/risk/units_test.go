package risk_test

import (
	"math"
	"slices"
	"testing"

	"github.com/atrest-dev/atrest/aead/nonce/risk"
)

func TestParseCount(t *testing.T) {
	for s, want := range map[string]float64{
		"200000": 200000, "2e5": 2e5, "200k": 2e5, "4M": 4e6, "2G": 2e9, "1T": 1e12, "1_000": 1000,
		"2^32": math.Ldexp(1, 32), "2^-32": math.Ldexp(1, -32), "1.5*2^32": 1.5 * math.Ldexp(1, 32), " 7 ": 7,
	} {
		if got, err := risk.ParseCount(s); err != nil || got != want {
			t.Errorf("ParseCount(%q) = %g, %v; want %g", s, got, err, want)
		}
	}
	for _, s := range []string{"", "lots", "2^x", "NaN", "k", "2*x"} {
		if got, err := risk.ParseCount(s); err == nil {
			t.Errorf("ParseCount(%q) = %g, want an error", s, got)
		}
	}
}

func TestParseRate(t *testing.T) {
	for s, want := range map[string]float64{"100": 100, "100/s": 100, "6000/min": 100, "60/m": 1, "3600/h": 1, "86400/d": 1} {
		if got, err := risk.ParseRate(s); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %g, %v; want %g", s, got, err, want)
		}
	}
	for _, s := range []string{"0", "-1/s", "5/fortnight", "x/s", "1e400"} {
		if got, err := risk.ParseRate(s); err == nil {
			t.Errorf("ParseRate(%q) = %g, want an error", s, got)
		}
	}
}

func TestParseLifetime(t *testing.T) {
	for s, want := range map[string]float64{"720h": 720 * 3600, "90d": 90 * 86400, "2w": 14 * 86400, "1y": 365.25 * 86400, "1.5s": 1.5} {
		if got, err := risk.ParseLifetime(s); err != nil || got != want {
			t.Errorf("ParseLifetime(%q) = %g, %v; want %g", s, got, err, want)
		}
	}
	for _, s := range []string{"soon", "0d", "-1h", "y", "xd"} {
		if got, err := risk.ParseLifetime(s); err == nil {
			t.Errorf("ParseLifetime(%q) = %g, want an error", s, got)
		}
	}
}

func TestParseWidths(t *testing.T) {
	for s, want := range map[string][]int{"16": {16}, "16,20, 24": {16, 20, 24}, "8-10,44": {8, 9, 10, 44}} {
		if got, err := risk.ParseWidths(s); err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseWidths(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"4", "45", "20-16", "x", "16-", "40-50"} {
		if got, err := risk.ParseWidths(s); err == nil {
			t.Errorf("ParseWidths(%q) = %v, want an error", s, got)
		}
	}
}

func TestFormat(t *testing.T) {
	for p, want := range map[float64]string{
		0: "0", 1: "1", math.NaN(): "n/a (past the scheme's limit)", math.Ldexp(1, -32): "2^-32",
		2.5e-19: "2^-61.8 (2.5e-19)", 0.25: "0.2500",
	} {
		if got := risk.FormatProb(p); got != want {
			t.Errorf("FormatProb(%g) = %q, want %q", p, got, want)
		}
	}
	for n, want := range map[float64]string{200000: "200000", 277.77777: "277.8", math.Ldexp(1, 32): "4.29e+09 (2^32.0)"} {
		if got := risk.FormatCount(n); got != want {
			t.Errorf("FormatCount(%g) = %q, want %q", n, got, want)
		}
	}
}

func TestSchemesOf(t *testing.T) {
	for group, want := range map[string][]string{
		"aesgcm": {"aesgcm"}, "kmsv2-xnonce": {"kmsv2-xnonce", "kmsv2-xnonce-key"}, "atrest": {"atrest", "atrest-r32"},
	} {
		s, ok := risk.SchemesOf(group)
		var got []string
		for _, x := range s {
			got = append(got, x.Name)
		}
		if !ok || !slices.Equal(got, want) {
			t.Errorf("SchemesOf(%q) = %v, %v; want %v", group, got, ok, want)
		}
	}
	if all, ok := risk.SchemesOf("all"); !ok || len(all) != len(risk.Schemes()) {
		t.Errorf("SchemesOf(all): %d schemes, %v", len(all), ok)
	}
	if s, ok := risk.SchemesOf("rot13"); ok || s != nil {
		t.Errorf("SchemesOf(rot13) = %v, %v", s, ok)
	}
}
