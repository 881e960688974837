package main

// Tests of the built command: go build into a temporary directory once,
// then run it as an operator would. ATREST_BIN runs them against another
// build (e.g. an older one, to see which defects it has).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// atrestBin returns the path of the atrest command under test.
func atrestBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ATREST_BIN"); p != "" {
		return p
	}
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "atrest-bin-"); binErr != nil {
			return
		}
		// Tests run it as other users too.
		if binErr = os.Chmod(binDir, 0o755); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "atrest")
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", binPath, ".")
		var out []byte
		if out, binErr = cmd.CombinedOutput(); binErr != nil {
			binErr = fmt.Errorf("go build: %v\n%s", binErr, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type result struct {
	code    int
	out     []byte
	err     string
	elapsed time.Duration
}

// bin runs the built command with stdin and returns what it did.
func bin(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	// A command that hangs is a failure, not a stuck test run.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, atrestBin(t), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{out: out.Bytes(), err: errb.String(), elapsed: time.Since(start)}
	if ctx.Err() != nil {
		t.Errorf("atrest %q: killed after %v", args, r.elapsed)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func gcmConfig(t *testing.T, resources ...string) string {
	return writeFile(t, "enc.yaml", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: ['"+
		strings.Join(resources, "', '")+"']\n  providers:\n  - aesgcm: {keys: [{name: k, secret: "+keyA+"}]}\n")
}

const secret = "TOPSECRET"

// TestEncryptNeverWritesPlaintext: encrypt took the second key segment as
// the resource, so every resource whose key segment differs from its name
// (deployments.apps, CRDs, nodes under minions, endpoints under services)
// found no rule and was printed in plaintext, exit 0, nothing on stderr.
func TestEncryptNeverWritesPlaintext(t *testing.T) {
	keys := map[string]string{
		"/registry/deployments/ns/web":        "deployments.apps",
		"/registry/example.com/widgets/ns/w1": "widgets.example.com",
		"/registry/minions/n1":                "nodes",
		"/registry/services/endpoints/ns/s":   "endpoints",
		"/registry/secrets/ns/s":              "secrets",
	}
	all := gcmConfig(t, "deployments.apps", "widgets.example.com", "nodes", "endpoints", "secrets")
	for key, res := range keys {
		r := bin(t, []byte(secret), "encrypt", "--config", all, "--key", key)
		if r.code != 0 || !bytes.HasPrefix(r.out, []byte("k8s:enc:aesgcm:v1:k:")) || bytes.Contains(r.out, []byte(secret)) {
			t.Errorf("encrypt --key %s: exit %d, stdout %q, stderr %q", key, r.code, r.out, r.err)
			continue
		}
		d := bin(t, r.out, "decrypt", "--config", all, "--key", key)
		if d.code != 0 || string(d.out) != secret {
			t.Errorf("decrypt --key %s: exit %d, %q %s", key, d.code, d.out, d.err)
		}
		// --resource must match the key; the right one is accepted.
		if r := bin(t, []byte(secret), "encrypt", "--config", all, "--key", key, "--resource", res); r.code != 0 {
			t.Errorf("encrypt --key %s --resource %s: exit %d: %s", key, res, r.code, r.err)
		}
		// inspect says kube-apiserver reads it with the write key.
		i := bin(t, r.out, "inspect", "--config", all, "--key", key)
		if i.code != 0 || !strings.Contains(string(i.out), "stale:      no") || strings.Contains(string(i.out), "cannot read") ||
			!strings.Contains(string(i.out), "resource:   "+res) {
			t.Errorf("inspect --key %s: exit %d\n%s%s", key, i.code, i.out, i.err)
		}
	}

	// A configuration with rules, none of which names the resource: refused.
	onlySecrets := gcmConfig(t, "secrets")
	for key := range keys {
		if key == "/registry/secrets/ns/s" {
			continue
		}
		r := bin(t, []byte(secret), "encrypt", "--config", onlySecrets, "--key", key)
		if r.code != 4 || len(r.out) != 0 || !strings.Contains(r.err, "refused to write plaintext") || !strings.Contains(r.err, "--allow-plaintext") {
			t.Errorf("encrypt --key %s without a rule: exit %d, stdout %q, stderr %q", key, r.code, r.out, r.err)
		}
		r = bin(t, []byte(secret), "encrypt", "--config", onlySecrets, "--key", key, "--allow-plaintext")
		if r.code != 0 || string(r.out) != secret || !strings.Contains(r.err, "written in the clear") {
			t.Errorf("encrypt --key %s --allow-plaintext: exit %d, stdout %q, stderr %q", key, r.code, r.out, r.err)
		}
		i := bin(t, []byte("k8s:enc:aesgcm:v1:k:"+strings.Repeat("z", 40)), "inspect", "--config", onlySecrets, "--key", key)
		if !strings.Contains(string(i.out), "no rule of the configuration names") {
			t.Errorf("inspect --key %s without a rule:\n%s", key, i.out)
		}
	}
	// The allocation bitmaps: kube-apiserver never encrypts them.
	if r := bin(t, []byte(secret), "encrypt", "--config", gcmConfig(t, "*.*"), "--key", "/registry/ranges/serviceips"); r.code != 4 || len(r.out) != 0 {
		t.Errorf("encrypt of ranges/serviceips: exit %d, %q", r.code, r.out)
	}
	// A configured identity write provider writes in the clear, and says so.
	idCfg := writeFile(t, "id.yaml", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n  - aesgcm: {keys: [{name: k, secret: "+keyA+"}]}\n")
	if r := bin(t, []byte(secret), "encrypt", "--config", idCfg, "--key", "/registry/secrets/ns/s"); r.code != 0 || string(r.out) != secret || !strings.Contains(r.err, "write provider of secrets is identity") {
		t.Errorf("identity write provider: exit %d, %q, %q", r.code, r.out, r.err)
	}
}

// TestResourceTypos: --resource typos (Secrets, secret) and names that are
// not resources found no rule and wrote plaintext; a malformed --resource
// exited 1. They are usage errors now, with a hint, and so is a --resource
// that contradicts --key.
func TestResourceTypos(t *testing.T) {
	cfg := gcmConfig(t, "secrets", "deployments.apps")
	for _, c := range []struct {
		args []string
		hint string
	}{
		{[]string{"--key", "/registry/secrets/ns/s", "--resource", "Secrets"}, "did you mean secrets?"},
		{[]string{"--key", "/registry/secrets/ns/s", "--resource", "secret"}, "did you mean secrets?"},
		{[]string{"--key", "/x/y", "--resource", "secret"}, "did you mean secrets?"},
		{[]string{"--key", "/registry/deployments/ns/d", "--resource", "deployments"}, "did you mean deployments.apps?"},
		{[]string{"--key", "/registry/deployments/ns/d", "--resource", "deployment.apps"}, "did you mean deployments.apps?"},
		{[]string{"--key", "/registry/deployments/ns/d", "--resource", "secrets"}, "does not match --key"},
		{[]string{"--key", "/registry/secrets/ns/s", "--resource", "secrets/x"}, "not a resource name"},
		{[]string{"--key", "/registry/secrets/ns/s", "--resource", "*.apps"}, "not a resource name"},
		{[]string{"--key", "/registry/somethingnew/ns/s"}, "--resource is required"},
		{[]string{"--key", "/other/secrets/ns/s"}, "--resource is required"},
	} {
		for _, cmd := range []string{"encrypt", "decrypt", "inspect"} {
			r := bin(t, []byte(secret), append([]string{cmd, "--config", cfg}, c.args...)...)
			if r.code != 2 || len(r.out) != 0 || !strings.Contains(r.err, c.hint) {
				t.Errorf("%s %q: exit %d, stdout %q, stderr %q; want exit 2 with %q", cmd, c.args, r.code, r.out, r.err, c.hint)
			}
		}
	}
	// --etcd-prefix moves the keys.
	if r := bin(t, []byte(secret), "encrypt", "--config", cfg, "--etcd-prefix", "/k8s", "--key", "/k8s/deployments/ns/d"); r.code != 0 || !bytes.HasPrefix(r.out, []byte("k8s:enc:")) {
		t.Errorf("--etcd-prefix /k8s: exit %d %q %s", r.code, r.out, r.err)
	}
}

// TestValueFlagLimits: --max-bytes 2^63-1 overflowed io.LimitReader and
// encrypted an empty value; --max-bytes 0 or -1 exited 1; --config
// /dev/zero grew without bound; help for an unknown command exited 0.
func TestValueFlagLimits(t *testing.T) {
	cfg := gcmConfig(t, "secrets")
	key := "/registry/secrets/ns/s"
	r := bin(t, []byte(secret), "encrypt", "--config", cfg, "--key", key, "--max-bytes", "9223372036854775807")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	if d := bin(t, r.out, "decrypt", "--config", cfg, "--key", key); string(d.out) != secret {
		t.Errorf("--max-bytes 2^63-1 encrypted %q, not the input", d.out)
	}
	for _, m := range []string{"0", "-1"} {
		if r := bin(t, []byte(secret), "encrypt", "--config", cfg, "--key", key, "--max-bytes", m); r.code != 2 || len(r.out) != 0 {
			t.Errorf("--max-bytes %s: exit %d", m, r.code)
		}
	}
	if r := bin(t, []byte(secret), "encrypt", "--config", cfg, "--key", key, "--max-bytes", "3"); r.code != 1 || !strings.Contains(r.err, "longer than --max-bytes=3") {
		t.Errorf("--max-bytes 3: exit %d %s", r.code, r.err)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		r := bin(t, []byte(secret), "encrypt", "--config", "/dev/zero", "--key", key)
		if r.code != 1 || !strings.Contains(r.err, "longer than") || r.elapsed > 10*time.Second {
			t.Errorf("--config /dev/zero: exit %d after %v: %s", r.code, r.elapsed, r.err)
		}
	}
	for _, args := range [][]string{{"help", "nosuch"}, {"help", "encrypt", "extra"}, {"nosuch"}} {
		if r := bin(t, nil, args...); r.code != 2 {
			t.Errorf("%q: exit %d", args, r.code)
		}
	}
	if r := bin(t, nil, "help", "scan"); r.code != 0 || !strings.Contains(r.err, "-dial-timeout") {
		t.Errorf("help scan: exit %d", r.code)
	}
}

// TestStoreFlagUsage: --workers 100000000 reached 7.7 GB; TLS flags were
// silently ignored with http:// endpoints and with --snapshot; a --prefix
// outside --etcd-prefix scanned keys no resource could be found for.
func TestStoreFlagUsage(t *testing.T) {
	cfg := gcmConfig(t, "secrets")
	ca := writeFile(t, "ca.pem", "not PEM")
	for _, args := range [][]string{
		{"rotate", "--config", cfg, "--endpoints", "http://127.0.0.1:1", "--apply", "--workers", "100000000"},
		{"rotate", "--config", cfg, "--endpoints", "http://127.0.0.1:1", "--apply", "--workers", "0"},
		{"scan", "--config", cfg, "--endpoints", "http://127.0.0.1:1", "--cacert", ca},
		{"rotate", "--config", cfg, "--endpoints", "http://127.0.0.1:1", "--dry-run", "--cert", ca, "--key", ca},
		{"scan", "--config", cfg, "--snapshot", "x.db", "--cacert", ca},
		{"scan", "--config", cfg, "--endpoints", "https://127.0.0.1:1,http://127.0.0.1:2"},
		{"scan", "--config", cfg, "--endpoints", "ftp://127.0.0.1:1"},
		{"scan", "--config", cfg, "--endpoints", "http://127.0.0.1:1", "--etcd-prefix", "/k8s", "--prefix", "/registry/"},
		{"scan", "--config", cfg, "--endpoints", "http://127.0.0.1:1", "--dial-timeout", "0s"},
	} {
		if r := bin(t, nil, args...); r.code != 2 {
			t.Errorf("%q: exit %d, want 2: %s", args, r.code, r.err)
		}
	}
}

// TestDialTimeoutCLI: --dial-timeout had no effect and a dead port, a
// wrong CA, a missing client certificate or https against a plaintext port
// hung scan and rotate. They fail now within the dial timeout, naming the
// endpoint; a non-PEM --cacert fails at once.
func TestDialTimeoutCLI(t *testing.T) {
	secure, pki := etcdtest.NewTLS(t)
	plain := etcdtest.New(t, 1)
	cfg := gcmConfig(t, "secrets")
	notPEM := writeFile(t, "ca.pem", "-----BEGIN NOTHING-----\n")
	dead := "http://" + etcdtest.DeadAddr(t)
	https := strings.Replace(plain.Endpoints[0], "http://", "https://", 1)
	const timeout = 2 * time.Second
	for _, c := range []struct {
		name     string
		endpoint string
		tls      []string
	}{
		{"dead port", dead, nil},
		{"wrong CA", secure.Endpoints[0], []string{"--cacert", pki.OtherCA, "--cert", pki.ClientCert, "--key", pki.ClientKey}},
		{"no client certificate", secure.Endpoints[0], []string{"--cacert", pki.CA}},
		{"non-PEM --cacert", secure.Endpoints[0], []string{"--cacert", notPEM}},
		{"https to a plaintext port", https, []string{"--cacert", pki.CA}},
	} {
		for _, cmd := range [][]string{{"scan"}, {"rotate", "--dry-run"}} {
			args := append(append(cmd, "--config", cfg, "--endpoints", c.endpoint, "--dial-timeout", timeout.String()), c.tls...)
			r := bin(t, nil, args...)
			t.Logf("%s %s: exit %d after %v: %s", cmd[0], c.name, r.code, r.elapsed.Round(time.Millisecond), strings.TrimSpace(r.err))
			if r.code != 1 || !strings.Contains(r.err, c.endpoint) {
				t.Errorf("%s %s: exit %d, stderr %q; want 1 naming %s", cmd[0], c.name, r.code, r.err, c.endpoint)
			}
			if r.elapsed > timeout+5*time.Second {
				t.Errorf("%s %s: took %v with --dial-timeout %v", cmd[0], c.name, r.elapsed, timeout)
			}
		}
	}
	// And the right settings work.
	r := bin(t, nil, "scan", "--config", cfg, "--endpoints", secure.Endpoints[0], "--cacert", pki.CA, "--cert", pki.ClientCert, "--key", pki.ClientKey, "--quiet")
	if r.code != 0 {
		t.Errorf("scan over TLS: exit %d: %s", r.code, r.err)
	}
}

// TestScanEtcdPrefixCLI: --etcd-prefix /k8s alone scanned /registry/ (the
// --prefix default was hard-coded) and reported no plaintext while
// /k8s/secrets held some; rotate did nothing.
func TestScanEtcdPrefixCLI(t *testing.T) {
	c := etcdtest.New(t, 1)
	cli := c.TestClient(t)
	ctx := etcdtest.WaitContext(t)
	for i := range 3 {
		if _, err := cli.Put(ctx, fmt.Sprintf("/k8s/secrets/ns/s%d", i), "k8s\x00plain"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.Put(ctx, "/registry/secrets/ns/other", "k8s\x00plain"); err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, "enc.yaml", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: [{name: k, secret: "+keyA+"}]}\n  - identity: {}\n")
	r := bin(t, nil, "scan", "--config", cfg, "--endpoints", c.Endpoints[0], "--etcd-prefix", "/k8s", "--json", "--quiet")
	if r.code != 0 || !strings.Contains(string(r.out), `"prefix": "/k8s/"`) || !strings.Contains(string(r.out), `"plaintext": 3`) {
		t.Fatalf("scan --etcd-prefix /k8s: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r = bin(t, nil, "rotate", "--config", cfg, "--endpoints", c.Endpoints[0], "--etcd-prefix", "/k8s", "--apply", "--json", "--quiet")
	if r.code != 0 || !strings.Contains(string(r.out), `"rewritten": 3`) {
		t.Fatalf("rotate --etcd-prefix /k8s: exit %d\n%s%s", r.code, r.out, r.err)
	}
	got, err := cli.Get(ctx, "/registry/secrets/ns/other")
	if err != nil || string(got.Kvs[0].Value) != "k8s\x00plain" {
		t.Fatalf("a key outside /k8s/ was touched: %v", err)
	}
	resp, _ := cli.Get(ctx, "/k8s/", clientv3.WithPrefix())
	for _, kv := range resp.Kvs {
		if !bytes.HasPrefix(kv.Value, []byte("k8s:enc:aesgcm:v1:k:")) {
			t.Errorf("%s not rotated", kv.Key)
		}
	}
}

// TestSnapshotCLI: a truncated snapshot crashed scan with SIGSEGV (exit 2,
// the usage status), an empty one failed with "bad file descriptor", a
// flipped one passed with a different report. They exit 3 now, and a good
// one says its checksum was verified.
func TestSnapshotCLI(t *testing.T) {
	c := etcdtest.New(t, 1)
	cli := c.TestClient(t)
	ctx := etcdtest.WaitContext(t)
	mixed, err := etcdtest.FillMixed(ctx, cli, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, "enc.yaml", mixed.Current)
	dir := t.TempDir()
	snap := filepath.Join(dir, "snap.db")
	if err := c.SaveSnapshot(ctx, 0, snap); err != nil {
		t.Fatal(err)
	}
	full, _ := os.ReadFile(snap)
	flipped := bytes.Clone(full)
	flipped[len(flipped)/2] ^= 0x10
	r := bin(t, nil, "scan", "--config", cfg, "--snapshot", snap, "--quiet")
	if r.code != 0 || !strings.Contains(string(r.out), "snapshot verified: sha256") || !strings.Contains(string(r.out), "CATASTROPHIC") {
		t.Errorf("good snapshot: exit %d\n%s%s", r.code, r.out, r.err)
	}
	for name, data := range map[string][]byte{"empty": nil, "head-8192": full[:8192], "flipped": flipped, "no-sum-truncated": full[:len(full)-33]} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o400)
		before := sha256.Sum256(data)
		r := bin(t, nil, "scan", "--config", cfg, "--snapshot", p, "--quiet")
		after, _ := os.ReadFile(p)
		if r.code != 3 || len(r.out) != 0 || strings.Contains(r.err, "bad file descriptor") || sha256.Sum256(after) != before {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, r.code, r.out, r.err)
		}
	}
	if r := bin(t, nil, "scan", "--config", cfg, "--snapshot", filepath.Join(dir, "missing"), "--quiet"); r.code != 1 {
		t.Errorf("missing snapshot: exit %d", r.code)
	}
	// A member's db file: scanned, with a warning that nothing verified it.
	c.Close()
	r = bin(t, nil, "scan", "--config", cfg, "--snapshot", c.DataDB(0), "--quiet")
	if r.code != 0 || !strings.Contains(r.err, "no checksum") {
		t.Errorf("member db: exit %d\n%s", r.code, r.err)
	}
}
