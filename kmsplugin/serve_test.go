package kmsplugin_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/atrest-dev/atrest/envelope/kmsv2"
	"github.com/atrest-dev/atrest/kmsplugin"
)

// TestStart serves a plugin in the background: a KMS v2 client reaches it
// over the socket, a second server on the same socket is refused, and Stop
// stops it and removes the socket (a second Stop is harmless).
func TestStart(t *testing.T) {
	dir, err := os.MkdirTemp("", "kmsp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "p.sock")
	kek := bytes.Repeat([]byte{1}, kmsplugin.KEKSize)
	p, err := kmsplugin.NewWithKEKs(kmsplugin.Options{}, kek)
	if err != nil {
		t.Fatal(err)
	}
	s, err := kmsplugin.Start("unix://"+sock, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kmsplugin.Start("unix://"+sock, p); !errors.Is(err, kmsplugin.ErrSocketInUse) {
		t.Errorf("a second server on the socket: %v", err)
	}
	c, err := kmsv2.Dial("p", s.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if id, _, err := c.Current(); err != nil || id != kmsplugin.KeyID(kek) {
		t.Fatalf("Current through the socket: %q, %v", id, err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
	if err := c.Check(); !errors.Is(err, kmsv2.ErrUnavailable) {
		t.Fatalf("a check after Stop: %v", err)
	}
}
