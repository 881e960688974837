//go:build unix

package kmsplugin_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atrest-dev/atrest/kmsplugin"
)

// readWithin is ReadKEKFile that gives up after 10 s (a FIFO blocks a
// blocking open until a writer comes): it then opens the FIFO for writing
// to release the read, and fails the test.
func readWithin(t *testing.T, path string) ([]byte, error) {
	t.Helper()
	type result struct {
		k   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		k, err := kmsplugin.ReadKEKFile(path)
		ch <- result{k, err}
	}()
	select {
	case r := <-ch:
		return r.k, r.err
	case <-time.After(10 * time.Second):
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatalf("ReadKEKFile(%s) still blocks after 10 s", path)
		return nil, nil
	}
}

// TestReadKEKFileKinds: a KEK file must be a regular file (symbolic links
// followed) of at most MaxKEKFileSize bytes; a FIFO, /dev/zero, a directory
// and a 3 GB sparse file fail at once with ErrNotRegularFile or
// ErrKEKFileTooLarge, unread.
func TestReadKEKFileKinds(t *testing.T) {
	dir := t.TempDir()
	key := make([]byte, kmsplugin.KEKSize)
	rand.Read(key)
	b64 := base64.StdEncoding.EncodeToString(key)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	raw := write("raw", key)
	padded := write("padded", []byte(b64+strings.Repeat(" ", kmsplugin.MaxKEKFileSize-len(b64))))
	over := write("over", []byte(b64+strings.Repeat(" ", kmsplugin.MaxKEKFileSize+1-len(b64))))
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(3 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	link := filepath.Join(dir, "link")
	if err := os.Symlink(raw, link); err != nil {
		t.Fatal(err)
	}
	linkZero := filepath.Join(dir, "link-zero")
	if err := os.Symlink("/dev/zero", linkZero); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want error
	}{
		{raw, nil},
		{padded, nil},
		{link, nil}, // as a Kubernetes Secret volume mounts it
		{over, kmsplugin.ErrKEKFileTooLarge},
		{sparse, kmsplugin.ErrKEKFileTooLarge},
		{fifo, kmsplugin.ErrNotRegularFile},
		{"/dev/zero", kmsplugin.ErrNotRegularFile},
		{linkZero, kmsplugin.ErrNotRegularFile},
		{dir, kmsplugin.ErrNotRegularFile},
	} {
		k, err := readWithin(t, c.path)
		switch {
		case c.want == nil && (err != nil || !bytes.Equal(k, key)):
			t.Errorf("%s: %v", c.path, err)
		case c.want != nil && !errors.Is(err, c.want):
			t.Errorf("%s: %v, want %v", c.path, err, c.want)
		case err != nil && (strings.Contains(err.Error(), b64) || !strings.Contains(err.Error(), c.path)):
			t.Errorf("%s: the error does not name the file, or shows the key: %v", c.path, err)
		}
	}
	// A reload that meets a FIFO fails at once and keeps the KEKs.
	p, err := kmsplugin.New(kmsplugin.Options{}, raw, filepath.Join(dir, "next"))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "next"), 0o600); err != nil {
		t.Fatal(err)
	}
	reloaded := make(chan error, 1)
	go func() { reloaded <- p.Reload() }()
	select {
	case err := <-reloaded:
		if !errors.Is(err, kmsplugin.ErrNotRegularFile) {
			t.Errorf("Reload with a FIFO: %v", err)
		}
	case <-time.After(10 * time.Second):
		if f, err := os.OpenFile(filepath.Join(dir, "next"), os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatal("Reload blocks on a FIFO")
	}
	if l := p.Loaded(); len(l) != 1 || l[0].KeyID != kmsplugin.KeyID(key) {
		t.Errorf("after the failed reload: %+v", l)
	}
}

// TestKEKTextWarning: a KEK whose 32 bytes are all printable (a hex or text
// key taken byte for byte) is loaded with a warning; random bytes, raw or
// base64, are not.
func TestKEKTextWarning(t *testing.T) {
	dir := t.TempDir()
	random := make([]byte, kmsplugin.KEKSize)
	rand.Read(random)
	for _, c := range []struct {
		name, data, want string
	}{
		{"hex", "00112233445566778899aabbccddeeff", "hex digits"},
		{"hex-newline", "00112233445566778899aabbccddeef\n", "hex digits"},
		{"text", "correct horse battery staple 12!", "printable text"},
		{"base64-of-text", base64.StdEncoding.EncodeToString([]byte("correct horse battery staple 12!")), "printable text"},
		{"random", string(random), ""},
		{"base64", base64.StdEncoding.EncodeToString(random) + "\n", ""},
	} {
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, []byte(c.data), 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := kmsplugin.New(kmsplugin.Options{}, path)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		w := p.Loaded()[0].Warning
		if (c.want == "") != (w == "") || !strings.Contains(w, c.want) {
			t.Errorf("%s: warning %q, want %q", c.name, w, c.want)
		}
	}
}
