package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/storage/value"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/envelope/kmsv2"
	"github.com/atrest-dev/atrest/kmsplugin"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// shortDir is a directory with a short path: unix socket paths must fit in
// 108 bytes. (TestKMSPluginProcess runs the command as a process: the test
// binary re-executed with ATREST_TEST_MAIN=1, see TestMain.)
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "kmsp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func waitForSocket(t *testing.T, path string) {
	t.Helper()
	for range 500 {
		if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no socket at %s", path)
}

// syncBuffer is a bytes.Buffer for a command's standard error while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestKMSPluginCommand(t *testing.T) {
	dir := shortDir(t)
	kekFile, sock := filepath.Join(dir, "kek"), filepath.Join(dir, "p.sock")

	code, _, stderr := atrest(t, nil, "kms-plugin", "--create", "--kek-file", kekFile)
	if code != 0 || !strings.Contains(stderr, "created KEK file") {
		t.Fatalf("--create: %d %s", code, stderr)
	}
	fi, err := os.Stat(kekFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("KEK file: %v, mode %v", err, fi.Mode())
	}
	k, err := kmsplugin.ReadKEKFile(kekFile)
	if err != nil {
		t.Fatal(err)
	}
	secret := base64.StdEncoding.EncodeToString(k)
	if strings.Contains(stderr, secret) || !strings.Contains(stderr, kmsplugin.KeyID(k)) {
		t.Fatalf("--create output: %s", stderr)
	}
	if code, _, stderr := atrest(t, nil, "kms-plugin", "--create", "--kek-file", kekFile); code != 1 || !strings.Contains(stderr, "exists") {
		t.Fatalf("--create over an existing file: %d %s", code, stderr)
	}
	for _, args := range [][]string{{"--listen", "unix://" + sock}, {"--kek-file", kekFile}, {"--kek-file", kekFile, "--listen", "unix://" + sock, "extra"}} {
		if code, _, _ := atrest(t, nil, append([]string{"kms-plugin"}, args...)...); code != 2 {
			t.Errorf("kms-plugin %q: exit %d, want 2", args, code)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	var errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"kms-plugin", "--listen", "unix://" + sock, "--kek-file", kekFile, "--kek-file", filepath.Join(dir, "kek-old")},
			stdio{strings.NewReader(""), &bytes.Buffer{}, &errb})
	}()
	waitForSocket(t, sock)
	if fi, _ := os.Stat(sock); fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}
	// A second plugin on the same socket is refused.
	if code, _, stderr := atrest(t, nil, "kms-plugin", "--listen", "unix://"+sock, "--kek-file", kekFile); code != 1 || !strings.Contains(stderr, "another process") {
		t.Errorf("second plugin: %d %s", code, stderr)
	}
	p, err := kmsv2.Dial("local", "unix://"+sock)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	v, err := p.Seal(nil, []byte("through the command"), []byte("/registry/secrets/a/b"))
	if err != nil {
		t.Fatal(err)
	}
	if out, stale, err := p.OpenStale(nil, v, []byte("/registry/secrets/a/b")); err != nil || stale || string(out) != "through the command" {
		t.Fatalf("read back: %q %v %v", out, stale, err)
	}
	if id, _, _ := p.Current(); id != kmsplugin.KeyID(k) {
		t.Fatalf("key ID %q, want %q", id, kmsplugin.KeyID(k))
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
	out := errb.String()
	if !strings.Contains(out, "stopped") || strings.Contains(out, secret) {
		t.Fatalf("stderr: %s", out)
	}
}

// TestKMSPluginProcess runs atrest kms-plugin as a separate process, and
// kube-apiserver's loader and atrest's each read what the other wrote
// through it; a SIGHUP after a KEK rotation makes both see the new key ID
// (old values stale), and SIGTERM stops it and removes its socket.
func TestKMSPluginProcess(t *testing.T) {
	dir := shortDir(t)
	cur, prev, sock := filepath.Join(dir, "kek"), filepath.Join(dir, "kek-old"), filepath.Join(dir, "p.sock")
	if _, err := kmsplugin.CreateKEKFile(cur); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "kms-plugin", "--listen", "unix://"+sock, "--kek-file", cur, "--kek-file", prev)
	cmd.Env = append(os.Environ(), "ATREST_TEST_MAIN=1")
	var errb syncBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	waitForSocket(t, sock)

	conf := kubepeer.Config{Rules: []kubepeer.Rule{{Resources: []string{"secrets"},
		Providers: []kubepeer.Provider{kubepeer.KMS("proc", "unix://"+sock), kubepeer.Identity}}}}
	type side struct {
		name string
		enc  func([]byte) ([]byte, error)
		dec  func([]byte) ([]byte, bool, error)
	}
	ad := []byte("/registry/secrets/p/q")
	// Both load the file kubepeer.Load writes.
	load := func() []side {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		m, err := kubepeer.Load(ctx, dir, []byte(conf.YAML()))
		if err != nil {
			t.Fatal(err)
		}
		tr := m.For("secrets")
		cfg, err := envelope.LoadConfig(filepath.Join(dir, kubepeer.File))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cfg.Close() })
		ch, _ := cfg.For("secrets")
		return []side{
			{"atrest", func(pt []byte) ([]byte, error) { return ch.Encrypt(nil, pt, ad) },
				func(v []byte) ([]byte, bool, error) { return ch.Decrypt(nil, v, ad) }},
			{"kubernetes", func(pt []byte) ([]byte, error) {
				return tr.TransformToStorage(context.Background(), bytes.Clone(pt), value.DefaultContext(ad))
			}, func(v []byte) ([]byte, bool, error) {
				return tr.TransformFromStorage(context.Background(), bytes.Clone(v), value.DefaultContext(ad))
			}},
		}
	}
	pt := []byte("through a plugin process")
	check := func(sides []side, v []byte, wantStale bool) {
		t.Helper()
		for _, r := range sides {
			got, stale, err := r.dec(v)
			if err != nil || stale != wantStale || !bytes.Equal(got, pt) {
				t.Fatalf("%s reads %q...: %q stale=%v %v, want stale=%v", r.name, v[:30], got, stale, err, wantStale)
			}
		}
	}
	sides := load()
	var old [][]byte
	for _, w := range sides {
		v, err := w.enc(pt)
		if err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		check(sides, v, false)
		old = append(old, v)
	}

	// Rotate the KEK files and signal the plugin.
	if err := os.Rename(cur, prev); err != nil {
		t.Fatal(err)
	}
	newID, err := kmsplugin.CreateKEKFile(cur)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	probe, _ := kmsv2.Dial("probe", "unix://"+sock)
	defer probe.Close()
	for i := 0; ; i++ {
		probe.Check()
		if id, _, _ := probe.Current(); id == newID {
			break
		}
		if i == 200 {
			t.Fatalf("the plugin did not pick up the new KEK: %s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	after := load()
	for _, v := range old {
		check(after, v, true)
	}
	for _, w := range after {
		v, err := w.enc(pt)
		if err != nil {
			t.Fatal(err)
		}
		check(after, v, false)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the plugin did not stop on SIGTERM")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
	out := errb.String()
	for _, want := range []string{"listening on", "reloaded", newID, "stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	for _, f := range []string{cur, prev} {
		k, _ := kmsplugin.ReadKEKFile(f)
		if strings.Contains(out, base64.StdEncoding.EncodeToString(k)) {
			t.Errorf("stderr shows the KEK of %s", f)
		}
	}
}
