package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const (
	keyA = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes
	keyB = "YWJjZGVmZ2hpamtsbW5vcA=="                     // 16 bytes
)

func writeConfig(t *testing.T, providers string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "enc.yaml")
	y := "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n" + providers
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// atrest runs one command line with stdin and returns exit code, stdout, stderr.
func atrest(t *testing.T, stdin []byte, args ...string) (int, []byte, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, stdio{bytes.NewReader(stdin), &out, &errb})
	return code, out.Bytes(), errb.String()
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	newCfg := writeConfig(t, "  - aesgcm: {keys: [{name: new, secret: "+keyA+"}]}\n  - aescbc: {keys: [{name: old, secret: "+keyB+"}]}\n  - identity: {}\n")
	oldCfg := writeConfig(t, "  - aescbc: {keys: [{name: old, secret: "+keyB+"}]}\n")
	key := "/registry/secrets/default/s1"
	pt := []byte("k8s\x00protobuf-ish secret value")

	code, stored, stderr := atrest(t, pt, "encrypt", "--config", oldCfg, "--key", key)
	if code != 0 || !bytes.HasPrefix(stored, []byte("k8s:enc:aescbc:v1:old:")) {
		t.Fatalf("encrypt: %d %q %s", code, stored, stderr)
	}
	// Read under the rotated configuration, with etcdctl's trailing newline.
	code, got, stderr := atrest(t, append(bytes.Clone(stored), '\n'), "decrypt", "--config", newCfg, "--key", key)
	if code != 0 || !bytes.Equal(got, pt) {
		t.Fatalf("decrypt: %d %q %s", code, got, stderr)
	}
	if !strings.Contains(stderr, "stale") || !strings.Contains(stderr, "newline") {
		t.Errorf("decrypt notes missing: %q", stderr)
	}
	// inspect says the same without decrypting.
	code, out, _ := atrest(t, stored, "inspect", "--config", newCfg, "--resource", "secrets", "--json")
	var r report
	if code != 0 || json.Unmarshal(out, &r) != nil {
		t.Fatalf("inspect: %d %s", code, out)
	}
	if r.Provider != "aescbc" || r.KeyName != "old" || r.Entry != 1 || r.Stale == nil || !*r.Stale ||
		r.PayloadBytes != len(stored)-len("k8s:enc:aescbc:v1:old:") || r.PlaintextMin > len(pt) || r.PlaintextMax < len(pt) {
		t.Fatalf("inspect report = %+v", r)
	}
	// A fresh write under the new configuration is not stale.
	_, fresh, _ := atrest(t, pt, "encrypt", "--config", newCfg, "--key", key)
	_, out, _ = atrest(t, fresh, "inspect", "--config", newCfg, "--key", key)
	if !strings.Contains(string(out), "stale:      no") || !strings.Contains(string(out), "plaintext:  "+itoa(len(pt))+" bytes") {
		t.Fatalf("inspect text:\n%s", out)
	}
	// The wrong etcd key fails aesgcm authentication.
	code, _, stderr = atrest(t, fresh, "decrypt", "--config", newCfg, "--key", "/registry/secrets/default/other")
	if code != 1 || !strings.Contains(stderr, "authentication failed") {
		t.Fatalf("wrong etcd key: %d %s", code, stderr)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestInspectWithoutConfig(t *testing.T) {
	cases := map[string]string{
		"plain value":                  "provider:   identity",
		"k8s:enc:aesgcm:v1:k1:" + "xx": "malformed:  2 bytes: shorter than nonce and tag",
		"k8s:enc:secretbox:v1:a:" + strings.Repeat("z", 50): "plaintext:  10 bytes",
		"k8s:enc:aescbc:v1:k:" + strings.Repeat("z", 33):    "not a whole number",
	}
	for in, want := range cases {
		code, out, _ := atrest(t, []byte(in), "inspect")
		if code != 0 || !strings.Contains(string(out), want) {
			t.Errorf("inspect %q: %d\n%s\nwant %q", in, code, out, want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	cfg := writeConfig(t, "  - secretbox: {keys: [{name: k, secret: "+keyA+"}]}\n")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "usage: atrest"},
		{[]string{"nope"}, 2, "unknown command"},
		{[]string{"encrypt", "--key", "/registry/secrets/a/b"}, 2, "--config is required"},
		{[]string{"encrypt", "--config", cfg}, 2, "--key is required"},
		{[]string{"decrypt", "--config", cfg, "--key", "/x"}, 2, "--resource is required"},
		{[]string{"decrypt", "--config", cfg, "--key", "/registry/secrets/a/b", "extra"}, 2, "no arguments"},
		{[]string{"encrypt", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"decrypt", "--config", filepath.Join(t.TempDir(), "missing"), "--key", "/registry/secrets/a/b"}, 1, "no such file"},
		{[]string{"decrypt", "--config", cfg, "--key", "/registry/secrets/a/b"}, 1, "no matching prefix"},
		{[]string{"encrypt", "--config", cfg, "--key", "/registry/secrets/a/b", "--max-bytes", "3"}, 1, "longer than --max-bytes=3"},
		{[]string{"help"}, 0, "inspect"},
		{[]string{"encrypt", "-h"}, 0, "--config"},
	} {
		code, _, stderr := atrest(t, []byte("k8s:enc:aescbc:v1:x:abcd"), c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("atrest %v: exit %d, stderr %q; want exit %d with %q", c.args, code, stderr, c.code, c.msg)
		}
		if strings.Contains(stderr, keyA) {
			t.Errorf("atrest %v printed a key", c.args)
		}
	}
}

func TestBadConfigErrorNamesFieldNotKey(t *testing.T) {
	cfg := writeConfig(t, "  - aescbc: {keys: [{name: k, secret: MTIzNDU2Nzg=}]}\n")
	code, _, stderr := atrest(t, []byte("x"), "encrypt", "--config", cfg, "--key", "/registry/secrets/a/b")
	if code != 1 || !strings.Contains(stderr, cfg) || !strings.Contains(stderr, "resources[0].providers[0].aescbc.keys[0].secret") || strings.Contains(stderr, "MTIzNDU2Nzg=") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// TestInspectNewlineByte: a trailing 0x0a is etcdctl's newline only when the
// value without it fits the provider's layout. An aescbc ciphertext whose
// last byte is 0x0a (one value in 256) is described whole.
func TestInspectNewlineByte(t *testing.T) {
	prefix := "k8s:enc:aescbc:v1:k1:"
	body := bytes.Repeat([]byte{0x5a}, 48) // IV(16) || two blocks
	body[47] = '\n'
	whole := inspect(append([]byte(prefix), body...), nil)
	if whole.Malformed != "" || whole.PayloadBytes != 48 || len(whole.Notes) != 0 && strings.Contains(whole.Notes[0], "newline") {
		t.Errorf("aescbc value ending in 0x0a: %+v", whole)
	}
	// etcdctl's newline after a whole value is left out.
	printed := inspect(append(append([]byte(prefix), bytes.Repeat([]byte{0x5a}, 48)...), '\n'), nil)
	if printed.Malformed != "" || printed.PayloadBytes != 48 || len(printed.Notes) == 0 || !strings.Contains(printed.Notes[0], "newline") {
		t.Errorf("aescbc value with etcdctl's newline: %+v", printed)
	}
}
