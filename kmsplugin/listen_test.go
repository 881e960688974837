//go:build unix

package kmsplugin_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/atrest-dev/atrest/kmsplugin"
)

// socketDir is a directory with a short path (a socket path must fit in
// 108 bytes), removed when the test ends.
func socketDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "kmsp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// TestListenEndpoints: endpoints that name no socket are refused by their
// form, before anything is created, with a message that says what is wrong.
func TestListenEndpoints(t *testing.T) {
	dir := socketDir(t)
	long := "/" + strings.Repeat("x", 107) // 108 bytes
	fits := "/" + strings.Repeat("x", 106) // 107 bytes
	for _, c := range []struct {
		endpoint string
		lc       kmsplugin.ListenConfig
		want     error
		msg      string
	}{
		{"unix://relative.sock", kmsplugin.ListenConfig{}, kmsplugin.ErrEndpoint, "must be absolute"},
		{"unix://", kmsplugin.ListenConfig{}, kmsplugin.ErrEndpoint, "no socket path"},
		{"unix:///", kmsplugin.ListenConfig{}, kmsplugin.ErrEndpoint, "no socket path"},
		{"unix:relative.sock", kmsplugin.ListenConfig{}, kmsplugin.ErrEndpoint, "must be absolute"},
		{"", kmsplugin.ListenConfig{}, kmsplugin.ErrEndpoint, "empty"},
		{"tcp://127.0.0.1:1", kmsplugin.ListenConfig{}, kmsplugin.ErrEndpoint, "scheme must be unix"},
		{"/tmp/x.sock", kmsplugin.ListenConfig{}, kmsplugin.ErrEndpoint, "scheme must be unix"},
		{"unix:///tmp/x.sock?a=b", kmsplugin.ListenConfig{}, kmsplugin.ErrEndpoint, "query"},
		{"unix://" + long, kmsplugin.ListenConfig{}, kmsplugin.ErrEndpoint, "socket path too long (108 bytes, max 107)"},
		{"unix://" + fits, kmsplugin.ListenConfig{}, nil, ""},
		{"unix:///@name", kmsplugin.ListenConfig{}, kmsplugin.ErrAbstract, "no file permissions"},
		{"unix:///@name", kmsplugin.ListenConfig{AllowAbstract: true}, nil, ""},
		{"unix:///@" + strings.Repeat("x", 108), kmsplugin.ListenConfig{AllowAbstract: true}, kmsplugin.ErrEndpoint, "too long (109 bytes, max 108)"},
	} {
		err := c.lc.CheckEndpoint(c.endpoint)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.msg)) {
			t.Errorf("CheckEndpoint(%q), %+v: %v, want %v (%q)", c.endpoint, c.lc, err, c.want, c.msg)
		}
		if c.want == nil {
			continue
		}
		if ln, err := c.lc.Listen(c.endpoint); !errors.Is(err, c.want) {
			if ln != nil {
				ln.Close()
			}
			t.Errorf("Listen(%q): %v, want %v", c.endpoint, err, c.want)
		}
	}
	// The default Listen refuses abstract sockets.
	if ln, err := kmsplugin.Listen("unix:///@atrest-kmsplugin-test"); !errors.Is(err, kmsplugin.ErrAbstract) {
		if ln != nil {
			ln.Close()
		}
		t.Errorf("Listen of an abstract socket: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused endpoints left files: %v", entries)
	}
}

// TestListenExistingPath: a path that holds something other than a socket
// (a file, a directory, a symbolic link to a live socket, to a stale one, or
// to nothing, a FIFO) is refused with ErrNotSocket and left as it was.
func TestListenExistingPath(t *testing.T) {
	dir := socketDir(t)
	live, err := kmsplugin.Listen("unix://" + filepath.Join(dir, "live.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	stale := filepath.Join(dir, "stale.sock")
	staleSocket(t, stale)
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{"to-live": filepath.Join(dir, "live.sock"), "to-stale": stale, "dangling": filepath.Join(dir, "nothing")}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"file", "dir", "fifo", "to-live", "to-stale", "dangling"} {
		path := filepath.Join(dir, name)
		before, _ := os.Lstat(path)
		ln, err := kmsplugin.Listen("unix://" + path)
		if !errors.Is(err, kmsplugin.ErrNotSocket) {
			if ln != nil {
				ln.Close()
			}
			t.Errorf("%s: %v, want ErrNotSocket", name, err)
			continue
		}
		after, err := os.Lstat(path)
		if err != nil || !os.SameFile(before, after) || before.Mode() != after.Mode() {
			t.Errorf("%s changed: %v", name, err)
		}
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "keep me" {
		t.Errorf("the file: %q %v", b, err)
	}
	for name, target := range links {
		if got, err := os.Readlink(filepath.Join(dir, name)); err != nil || got != target {
			t.Errorf("link %s: %q %v", name, got, err)
		}
	}
	if c, err := net.Dial("unix", filepath.Join(dir, "live.sock")); err != nil {
		t.Errorf("the live socket: %v", err)
	} else {
		c.Close()
	}
}

// staleSocket leaves a socket file at path that no one listens on, as a
// plugin that was killed does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
}

// TestListenStaleSocket: a socket of the plugin's user that refuses
// connections is replaced.
func TestListenStaleSocket(t *testing.T) {
	path := filepath.Join(socketDir(t), "p.sock")
	staleSocket(t, path)
	ln, err := kmsplugin.Listen("unix://" + path)
	if err != nil {
		t.Fatalf("a stale socket was not replaced: %v", err)
	}
	defer ln.Close()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// TestListenOtherUsersSocket: a stale socket of another user is not
// removed (ErrSocketOwner), even by root.
func TestListenOtherUsersSocket(t *testing.T) {
	needRoot(t, "to give a socket to another user")
	path := filepath.Join(socketDir(t), "p.sock")
	staleSocket(t, path)
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	ln, err := kmsplugin.Listen("unix://" + path)
	if !errors.Is(err, kmsplugin.ErrSocketOwner) || !strings.Contains(err.Error(), "uid 65534") {
		if ln != nil {
			ln.Close()
		}
		t.Fatalf("another user's socket: %v, want ErrSocketOwner", err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("the socket is gone: %v", err)
	}
}
