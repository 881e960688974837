package kmsv2_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrest-dev/atrest/kmsplugin"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// TestMain silences the peer's klog lines: every deliberately failed read,
// probe and rotation would print one.
func TestMain(m *testing.M) {
	kubepeer.SilenceKlog()
	os.Exit(m.Run())
}

// socketDir returns a fresh short directory for unix sockets (a socket path
// must fit in 108 bytes, which t.TempDir's long names may not).
func socketDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "kms")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// served is a plugin running as a gRPC server on a unix socket.
type served struct {
	endpoint string
	stop     func() // stops the server and waits for it; idempotent
}

// serve runs p as a gRPC server on a socket at path until the test ends
// or stop is called.
func serve(t testing.TB, p *kmsplugin.Plugin, path string) *served {
	t.Helper()
	endpoint := "unix://" + path
	ln, err := kmsplugin.Listen(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- kmsplugin.Serve(ctx, ln, p, time.Second, time.Second) }()
	var stopped atomic.Bool
	s := &served{endpoint: endpoint, stop: func() {
		if stopped.Swap(true) {
			return
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("plugin server: %v", err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("the plugin left its socket %s behind (%v)", path, err)
		}
	}}
	t.Cleanup(s.stop)
	return s
}

// startPlugin serves a plugin with the given KEKs on a fresh socket.
func startPlugin(t testing.TB, o kmsplugin.Options, keks ...[]byte) (*kmsplugin.Plugin, *served) {
	t.Helper()
	p, err := kmsplugin.NewWithKEKs(o, keks...)
	if err != nil {
		t.Fatal(err)
	}
	return p, serve(t, p, filepath.Join(socketDir(t), "p.sock"))
}

// kek returns a deterministic 32-byte KEK for label.
func kek(label string) []byte {
	k := make([]byte, 32)
	copy(k, fmt.Sprintf("kek %-28s", label))
	return k
}

var nameSeq atomic.Int64

// uniqueName returns a provider name no other test uses: the apiserver's
// test hooks (SetKDFForTests, SetNowFuncForTests) are keyed by name.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, nameSeq.Add(1))
}
