package kmsplugin_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atrest-dev/atrest/kmsplugin"
)

// refusals records what a ListenConfig's Refused is called with.
type refusals struct {
	mu   sync.Mutex
	errs []error
}

func (r *refusals) add(err error) { r.mu.Lock(); r.errs = append(r.errs, err); r.mu.Unlock() }

func (r *refusals) take() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.errs
	r.errs = nil
	return e
}

// serveWith serves a plugin on a listener of lc at endpoint until the
// test ends; chmod, if set, changes the socket file's mode after Listen
// (so that the kernel lets anyone connect and only the peer check decides).
func serveWith(t *testing.T, lc *kmsplugin.ListenConfig, endpoint string, chmod os.FileMode) {
	t.Helper()
	ln, err := lc.Listen(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	startServing(t, ln, endpoint, chmod)
}

func startServing(t *testing.T, ln net.Listener, endpoint string, chmod os.FileMode) {
	t.Helper()
	if chmod != 0 {
		if err := os.Chmod(strings.TrimPrefix(endpoint, "unix://"), chmod); err != nil {
			t.Fatal(err)
		}
	}
	p, err := kmsplugin.NewWithKEKs(kmsplugin.Options{}, bytes.Repeat([]byte{7}, kmsplugin.KEKSize))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- kmsplugin.Serve(ctx, ln, p, 5*time.Second, time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// openDir is a directory every user can enter.
func openDir(t *testing.T) string {
	t.Helper()
	d := socketDir(t)
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPeerCheck connects as other users (processes started with their
// credentials) to plugins with various ListenConfigs: only the plugin's own
// user and those allowed are served; the others are closed unserved and
// reported to Refused with their uid, never reaching gRPC. It needs root;
// the sockets are made mode 0666 behind Listen's back where the kernel's
// permission check would otherwise refuse first.
func TestPeerCheck(t *testing.T) {
	needRoot(t, "to run clients as other users")
	dir := openDir(t)
	keyID := kmsplugin.KeyID(bytes.Repeat([]byte{7}, kmsplugin.KEKSize))
	root := user{uid: 0, gid: 0}
	withGroup := user{uid: 65534, gid: 65534, groups: []uint32{4242}}
	primary := user{uid: 65534, gid: 4243}
	other := user{uid: 4244, gid: 4244}
	abstract := fmt.Sprintf("unix:///@atrest-kmsplugin-test-%d", os.Getpid())
	for _, c := range []struct {
		name     string
		lc       kmsplugin.ListenConfig
		endpoint string
		chmod    os.FileMode
		raw      bool // a net.Listener of its own, not Listen's
		allowed  []user
		refused  []user
	}{
		{name: "own user only", endpoint: "own.sock", chmod: 0o666, allowed: []user{root}, refused: []user{nobody, withGroup, primary}},
		{name: "allow uid", lc: kmsplugin.ListenConfig{AllowUIDs: []uint32{65534}}, endpoint: "uid.sock",
			allowed: []user{root, nobody, withGroup}, refused: []user{other}},
		{name: "allow supplementary gid", lc: kmsplugin.ListenConfig{AllowGIDs: []uint32{4242}}, endpoint: "gid.sock",
			allowed: []user{root, withGroup}, refused: []user{nobody, primary, other}},
		{name: "allow primary gid", lc: kmsplugin.ListenConfig{AllowGIDs: []uint32{4243}}, endpoint: "gid2.sock",
			allowed: []user{root, primary}, refused: []user{nobody, withGroup}},
		{name: "abstract", lc: kmsplugin.ListenConfig{AllowAbstract: true}, endpoint: abstract,
			allowed: []user{root}, refused: []user{nobody, withGroup}},
		{name: "Serve on a listener not from Listen", endpoint: "raw.sock", chmod: 0o666, raw: true,
			allowed: []user{root}, refused: []user{nobody}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ep := c.endpoint
			if !strings.HasPrefix(ep, "unix://") {
				ep = "unix://" + filepath.Join(dir, ep)
			}
			var r refusals
			c.lc.Refused = r.add
			if c.raw {
				ln, err := net.Listen("unix", strings.TrimPrefix(ep, "unix://"))
				if err != nil {
					t.Fatal(err)
				}
				startServing(t, ln, ep, c.chmod)
			} else {
				serveWith(t, &c.lc, ep, c.chmod)
			}
			for _, u := range c.allowed {
				if out, ok := clientAs(t, u, ep); !ok || !strings.Contains(out, keyID) {
					t.Errorf("%+v was not served: %s", u, out)
				}
			}
			if errs := r.take(); len(errs) != 0 {
				t.Errorf("allowed peers were refused: %v", errs)
			}
			for _, u := range c.refused {
				out, ok := clientAs(t, u, ep)
				if ok || strings.Contains(out, keyID) {
					t.Errorf("%+v was served: %s", u, out)
				}
				errs := r.take()
				if c.raw {
					continue // no Refused to report to
				}
				if len(errs) == 0 {
					t.Errorf("%+v: no refusal reported (client: %s)", u, out)
				}
				for _, err := range errs {
					if !errors.Is(err, kmsplugin.ErrPeerNotAllowed) || !strings.Contains(err.Error(), fmt.Sprintf("uid %d ", u.uid)) {
						t.Errorf("%+v: refusal %v", u, err)
					}
				}
			}
		})
	}
}

// TestListenModes: a socket file only the plugin's user may use is mode
// 0600; one that allows others 0666 (the peer check keeps the rest out).
func TestListenModes(t *testing.T) {
	dir := socketDir(t)
	for _, c := range []struct {
		lc   kmsplugin.ListenConfig
		mode os.FileMode
	}{
		{kmsplugin.ListenConfig{}, 0o600},
		{kmsplugin.ListenConfig{AllowUIDs: []uint32{1}}, 0o666},
		{kmsplugin.ListenConfig{AllowGIDs: []uint32{1}}, 0o666},
	} {
		path := filepath.Join(dir, "m.sock")
		ln, err := c.lc.Listen("unix://" + path)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		ln.Close()
		if err != nil || fi.Mode().Perm() != c.mode {
			t.Errorf("%+v: mode %v (%v), want %v", c.lc, fi.Mode().Perm(), err, c.mode)
		}
	}
}

// TestListenBusySocket: a live plugin whose backlog is full (a test
// connection fails with EAGAIN, not "connection refused") keeps its socket:
// ErrSocketInUse, and it still accepts once it catches up.
func TestListenBusySocket(t *testing.T) {
	path := filepath.Join(socketDir(t), "busy.sock")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "busy")
	defer f.Close()
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	var pending []net.Conn
	defer func() {
		for _, c := range pending {
			c.Close()
		}
	}()
	for {
		c, err := net.Dial("unix", path)
		if errors.Is(err, syscall.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if pending = append(pending, c); len(pending) > 100 {
			t.Fatal("the backlog does not fill")
		}
	}
	ln, err := kmsplugin.Listen("unix://" + path)
	if !errors.Is(err, kmsplugin.ErrSocketInUse) || !strings.Contains(err.Error(), "temporarily unavailable") {
		if ln != nil {
			ln.Close()
		}
		t.Fatalf("a busy plugin's socket: %v, want ErrSocketInUse", err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("the busy socket is gone: %v", err)
	}
	nfd, _, err := syscall.Accept(fd)
	if err != nil {
		t.Fatalf("the busy plugin cannot accept: %v", err)
	}
	syscall.Close(nfd)
}
