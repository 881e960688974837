//go:build unix

package kmsplugin_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atrest-dev/atrest/envelope/kmsv2"
)

// TestMain runs the test binary as a KMS v2 client when
// KMSPLUGIN_TEST_CLIENT names an endpoint (the peer-check tests run it so
// as another user), and otherwise the tests.
func TestMain(m *testing.M) {
	if ep := os.Getenv("KMSPLUGIN_TEST_CLIENT"); ep != "" {
		os.Exit(client(ep))
	}
	code := m.Run()
	if exeDir != "" {
		os.RemoveAll(exeDir)
	}
	os.Exit(code)
}

// client asks the plugin at endpoint for its status: it prints "ok" and
// the key ID and exits 0 if the plugin answered, prints the error and
// exits 1 if not.
func client(endpoint string) int {
	p, err := kmsv2.Dial("client", endpoint, kmsv2.WithTimeout(5*time.Second))
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer p.Close()
	if err := p.Check(); err != nil {
		fmt.Println(err)
		return 1
	}
	id, _, _ := p.Current()
	fmt.Println("ok", id)
	return 0
}

var (
	exeOnce sync.Once
	exeDir  string
	exePath string
	exeErr  error
)

// exe returns a copy of the test binary that every user can run (the go
// command's build directory is its owner's only).
func exe(t *testing.T) string {
	t.Helper()
	exeOnce.Do(func() {
		if exeDir, exeErr = os.MkdirTemp("", "kmsp-exe"); exeErr != nil {
			return
		}
		if exeErr = os.Chmod(exeDir, 0o755); exeErr != nil {
			return
		}
		exePath = filepath.Join(exeDir, "kmsplugin.test")
		var src, dst *os.File
		if src, exeErr = os.Open(os.Args[0]); exeErr != nil {
			return
		}
		defer src.Close()
		if dst, exeErr = os.OpenFile(exePath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755); exeErr != nil {
			return
		}
		if _, exeErr = io.Copy(dst, src); exeErr != nil {
			dst.Close()
			return
		}
		exeErr = dst.Close()
	})
	if exeErr != nil {
		t.Fatal(exeErr)
	}
	return exePath
}

// user is who a client process runs as.
type user struct {
	uid, gid uint32
	groups   []uint32 // supplementary
}

// nobody is the unprivileged user the peer-check tests connect as.
var nobody = user{uid: 65534, gid: 65534}

// needRoot skips a test that needs root, saying why (CI runs as root).
func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, " + why + " (CI runs as root)")
	}
}

// clientAs runs the client as u against endpoint and returns its output
// and whether the plugin answered.
func clientAs(t *testing.T, u user, endpoint string) (string, bool) {
	t.Helper()
	cmd := exec.Command(exe(t), "-test.run=^$")
	cmd.Env = append(os.Environ(), "KMSPLUGIN_TEST_CLIENT="+endpoint)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: u.groups}}
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return string(out), err == nil
}
