//go:build unix

package main

// The trust boundary of atrest kms-plugin: who may connect, whose socket it
// may remove, which files it reads as KEKs, and that a stop never waits.
// The process tests run the built command (atrestBin: ATREST_BIN runs them
// against another build); those that need a second user run as root and
// start the clients as nobody (uid 65534), and skip otherwise.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atrest-dev/atrest/envelope/kmsv2"
	"github.com/atrest-dev/atrest/kmsplugin"
)

// runAs is who a process runs as; nil is the test's own user.
type runAs = *syscall.Credential

var (
	nobody          runAs = &syscall.Credential{Uid: 65534, Gid: 65534}
	nobodyWithGroup runAs = &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{4242}}
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run processes as another user (CI runs as root)")
	}
}

// openDir is a short directory every user can enter (and, with mode 0777,
// write to).
func openDir(t *testing.T, mode os.FileMode) string {
	t.Helper()
	d := shortDir(t)
	if err := os.Chmod(d, mode); err != nil {
		t.Fatal(err)
	}
	return d
}

// process is the built command running in the background.
type process struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan error
}

// startAs starts the built command as u; the test's end kills it.
func startAs(t *testing.T, u runAs, stdin []byte, args ...string) *process {
	t.Helper()
	cmd := exec.Command(atrestBin(t), args...)
	cmd.Dir = "/"
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: u}
	p := &process{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		p.exited <- <-p.exited // for a second cleanup
	})
	return p
}

// wait returns the exit status, or -1 after timeout (the process is then
// killed).
func (p *process) wait(timeout time.Duration) int {
	select {
	case err := <-p.exited:
		p.exited <- err
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			return -2
		}
		return 0
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		return -1
	}
}

// runAsUser runs the built command as u to the end (at most a minute) and
// returns its exit status, stdout and stderr.
func runAsUser(t *testing.T, u runAs, stdin []byte, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, atrestBin(t), args...)
	cmd.Dir = "/"
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: u}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// untilServing waits (up to 10 s) until the plugin at endpoint answers the
// test's own user.
func untilServing(t *testing.T, endpoint string, p *process) {
	t.Helper()
	c, err := kmsv2.Dial("probe", endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 200 {
		if c.Check() == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the plugin at %s does not answer: %s", endpoint, p.stderr.String())
}

// kmsConfig writes a configuration (readable by every user) whose secrets
// go through the plugin at endpoint.
func kmsConfig(t *testing.T, dir, endpoint string) string {
	t.Helper()
	p := filepath.Join(dir, "enc.yaml")
	conf := "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n" +
		"  - kms: {apiVersion: v2, name: local, endpoint: \"" + endpoint + "\"}\n"
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func newKEK(t *testing.T, path string) {
	t.Helper()
	if _, err := kmsplugin.CreateKEKFile(path); err != nil {
		t.Fatal(err)
	}
}

// TestKMSPluginPeerCredentials: whoever reaches the socket can have DEKs
// decrypted, so the plugin serves its own user and those --allow-uid and
// --allow-gid name, and closes the connections of others, logging them. An
// abstract socket (no file permissions) needs --allow-abstract and is
// peer-checked like the rest: nobody cannot decrypt root's value through
// it, which it could.
func TestKMSPluginPeerCredentials(t *testing.T) {
	needRoot(t)
	dir := openDir(t, 0o755)
	kek := filepath.Join(dir, "kek")
	newKEK(t, kek)
	const key, value = "/registry/secrets/a/b", "rootsecret"
	abstract := fmt.Sprintf("unix:///@atrest-test-%d", os.Getpid())

	// Without --allow-abstract: a usage error, before anything is served.
	// (A plugin that serves it anyway shows what that costs.)
	p := startAs(t, nil, nil, "kms-plugin", "--kek-file", kek, "--listen", abstract)
	probe, err := kmsv2.Dial("probe", abstract)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	for range 200 {
		if len(p.exited) > 0 || probe.Check() == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(p.exited) == 0 && probe.Check() == nil {
		conf := kmsConfig(t, dir, abstract)
		_, stored, _ := runAsUser(t, nil, []byte(value), "encrypt", "--config", conf, "--key", key)
		code, out, _ := runAsUser(t, nobody, []byte(stored), "decrypt", "--config", conf, "--key", key)
		t.Errorf("an abstract socket without --allow-abstract is served; nobody decrypts root's value through it: exit %d, %q", code, out)
	}
	if code := p.wait(10 * time.Second); code != 2 || !strings.Contains(p.stderr.String(), "--allow-abstract") {
		t.Errorf("an abstract socket without --allow-abstract: exit %d (-1: still serving), want 2\n%s", code, p.stderr.String())
	}

	for _, c := range []struct {
		name     string
		endpoint string
		flags    []string
		allowed  []runAs
		refused  []runAs
	}{
		{"abstract", abstract, []string{"--allow-abstract"}, nil, []runAs{nobody, nobodyWithGroup}},
		{"allow-uid", "unix://" + filepath.Join(dir, "uid.sock"), []string{"--allow-uid", "65534"}, []runAs{nobody}, nil},
		{"allow-uid by name", "unix://" + filepath.Join(dir, "name.sock"), []string{"--allow-uid", "nobody"}, []runAs{nobody}, nil},
		{"allow-gid", "unix://" + filepath.Join(dir, "gid.sock"), []string{"--allow-gid", "4242"}, []runAs{nobodyWithGroup}, []runAs{nobody}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := startAs(t, nil, nil, append([]string{"kms-plugin", "--kek-file", kek, "--listen", c.endpoint}, c.flags...)...)
			untilServing(t, c.endpoint, p)
			conf := kmsConfig(t, dir, c.endpoint)
			code, stored, errOut := runAsUser(t, nil, []byte(value), "encrypt", "--config", conf, "--key", key)
			if code != 0 {
				t.Fatalf("encrypt as root: exit %d: %s", code, errOut)
			}
			for _, u := range c.allowed {
				if code, out, errOut := runAsUser(t, u, []byte(stored), "decrypt", "--config", conf, "--key", key); code != 0 || out != value {
					t.Errorf("decrypt as %+v, allowed: exit %d %q %s", *u, code, out, errOut)
				}
			}
			for _, u := range c.refused {
				code, out, errOut := runAsUser(t, u, []byte(stored), "decrypt", "--config", conf, "--key", key)
				if code == 0 || strings.Contains(out, value) {
					t.Errorf("decrypt as %+v: exit %d, %q: the plugin served a user it does not allow", *u, code, out)
				}
				if !strings.Contains(errOut, "KMS plugin unavailable") {
					t.Errorf("decrypt as %+v: %s", *u, errOut)
				}
			}
			if code, out, errOut := runAsUser(t, nil, []byte(stored), "decrypt", "--config", conf, "--key", key); code != 0 || out != value {
				t.Errorf("decrypt as root: exit %d %q %s", code, out, errOut)
			}
			log := p.stderr.String()
			if len(c.refused) > 0 && (!strings.Contains(log, "refused a connection") || !strings.Contains(log, "uid 65534")) {
				t.Errorf("the refusals are not logged:\n%s", log)
			}
			if len(c.refused) == 0 && strings.Contains(log, "refused") {
				t.Errorf("allowed users were refused:\n%s", log)
			}
			if c.name == "abstract" && !strings.Contains(log, "WARNING") {
				t.Errorf("no warning about the abstract socket:\n%s", log)
			}
			k, _ := kmsplugin.ReadKEKFile(kek)
			if bytes.Contains([]byte(log), k) || strings.Contains(log, value) {
				t.Errorf("the log shows key material:\n%s", log)
			}
		})
	}
}

// TestKMSPluginSocketTakeover: a user who can write to the directory of
// another user's plugin socket cannot take it over: nobody's kms-plugin on
// the path of root's live plugin (a 0777 directory, where a failed test
// connection used to count as a stale socket) fails, and root's plugin
// keeps its socket and its clients.
func TestKMSPluginSocketTakeover(t *testing.T) {
	needRoot(t)
	dir := openDir(t, 0o777)
	kek, theirs := filepath.Join(dir, "kek"), filepath.Join(dir, "kek-nobody")
	newKEK(t, kek)
	newKEK(t, theirs)
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "p.sock")
	ep := "unix://" + sock
	root := startAs(t, nil, nil, "kms-plugin", "--kek-file", kek, "--listen", ep)
	untilServing(t, ep, root)

	other := startAs(t, nobody, nil, "kms-plugin", "--kek-file", theirs, "--listen", ep)
	code := other.wait(10 * time.Second)
	if code != 1 || !strings.Contains(other.stderr.String(), "in use") {
		t.Errorf("nobody's plugin on root's socket: exit %d (-1: it serves), want 1 saying the socket is in use\n%s", code, other.stderr.String())
	}
	if fi, err := os.Lstat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("root's socket is gone: %v", err)
	}
	untilServing(t, ep, root)
}

// TestKMSPluginStopAfterFIFOReload: a SIGHUP that meets a FIFO where a KEK
// file was fails at once (KEK files are opened non-blocking and must be
// regular files), and SIGTERM then stops the plugin: "stopped", its socket
// removed.
func TestKMSPluginStopAfterFIFOReload(t *testing.T) {
	dir := shortDir(t)
	k1, k2, sock := filepath.Join(dir, "k1"), filepath.Join(dir, "k2"), filepath.Join(dir, "p.sock")
	newKEK(t, k1)
	newKEK(t, k2)
	p := startAs(t, nil, nil, "kms-plugin", "--kek-file", k1, "--kek-file", k2, "--listen", "unix://"+sock)
	untilServing(t, "unix://"+sock, p)
	if err := os.Remove(k2); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(k2, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for i := 0; !strings.Contains(p.stderr.String(), "reload failed") && i < 100; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := p.wait(15 * time.Second)
	log := p.stderr.String()
	if code != 0 || !strings.Contains(log, "stopped") {
		t.Errorf("SIGTERM after a SIGHUP on a FIFO: exit %d (-1: still running after 15 s)\n%s", code, log)
	}
	if !strings.Contains(log, "reload failed") || !strings.Contains(log, "not a regular file") && !strings.Contains(log, "must be a regular file") {
		t.Errorf("the reload did not fail on the FIFO:\n%s", log)
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
}

// TestKMSPluginStopDuringHungReload: a reload that hangs (a KEK file on a
// network file system that stopped answering) does not hold up the stop.
func TestKMSPluginStopDuringHungReload(t *testing.T) {
	dir := shortDir(t)
	kek, sock := filepath.Join(dir, "kek"), filepath.Join(dir, "p.sock")
	newKEK(t, kek)
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	reloadKEKs = func(*kmsplugin.Plugin) error {
		close(entered)
		<-release
		return nil
	}
	defer func() { reloadKEKs = (*kmsplugin.Plugin).Reload }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"kms-plugin", "--kek-file", kek, "--listen", "unix://" + sock}, stdio{strings.NewReader(""), &bytes.Buffer{}, &errb})
	}()
	waitForSocket(t, sock) // the plugin handles SIGHUP from before it listens
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("SIGHUP did not reload")
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(errb.String(), "stopped") {
			t.Errorf("exit %d:\n%s", code, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the plugin waits for a hung reload to stop:\n%s", errb.String())
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
}

// runFor is run with a context that ends after d: a command that would
// serve stops then instead of hanging the test.
func runFor(d time.Duration, args ...string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var errb bytes.Buffer
	code := run(ctx, args, stdio{strings.NewReader(""), &bytes.Buffer{}, &errb})
	return code, errb.String()
}

// TestKMSPluginFlagErrors: every flag is checked before anything happens:
// endpoints that name no socket (a relative path, none, one too long for a
// socket address), a timeout that is not positive, users and groups that do
// not exist are usage errors (exit 2) that say what is wrong, and --create
// writes no KEK file for them.
func TestKMSPluginFlagErrors(t *testing.T) {
	dir := shortDir(t)
	kek := filepath.Join(dir, "kek")
	newKEK(t, kek)
	long := "unix:///" + strings.Repeat("x", 107)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "unix://relative.sock"}, "must be absolute"},
		{[]string{"--listen", "unix://"}, "no socket path"},
		{[]string{"--listen", "unix:relative.sock"}, "must be absolute"},
		{[]string{"--listen", "tcp://127.0.0.1:1234"}, "scheme must be unix"},
		{[]string{"--listen", long}, "socket path too long (108 bytes, max 107)"},
		{[]string{"--listen", "unix://" + filepath.Join(dir, "p.sock"), "--timeout", "-1s"}, "--timeout must be positive"},
		{[]string{"--listen", "unix://" + filepath.Join(dir, "p.sock"), "--timeout", "0"}, "--timeout must be positive"},
		{[]string{"--listen", "unix://" + filepath.Join(dir, "p.sock"), "--allow-uid", "no-such-user-atrest"}, "--allow-uid"},
		{[]string{"--listen", "unix://" + filepath.Join(dir, "p.sock"), "--allow-uid", "-1"}, "--allow-uid"},
		{[]string{"--listen", "unix://" + filepath.Join(dir, "p.sock"), "--allow-gid", "no-such-group-atrest"}, "--allow-gid"},
		{[]string{"--allow-abstract"}, "--allow-abstract is for --listen"},
	} {
		for _, create := range []bool{false, true} {
			k, args := kek, c.args
			if create {
				k = filepath.Join(dir, "new-kek")
				args = append([]string{"--create"}, args...)
			}
			args = append([]string{"kms-plugin", "--kek-file", k}, args...)
			code, errOut := runFor(3*time.Second, args...)
			if code != 2 || !strings.Contains(errOut, c.want) || strings.Contains(errOut, "chmod") {
				t.Errorf("%q: exit %d, want 2 saying %q:\n%s", args, code, c.want, errOut)
			}
			if _, err := os.Lstat(filepath.Join(dir, "new-kek")); create && err == nil {
				t.Errorf("%q wrote a KEK file", args)
				os.Remove(filepath.Join(dir, "new-kek"))
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
}

// TestKMSPluginWarnsTextKEK: a KEK file of 32 printable bytes (here 32 hex
// digits, which are taken byte for byte, not decoded) is used, with a
// warning.
func TestKMSPluginWarnsTextKEK(t *testing.T) {
	dir := shortDir(t)
	kek := filepath.Join(dir, "kek")
	if err := os.WriteFile(kek, []byte("00112233445566778899aabbccddeeff"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, errOut := runFor(time.Second, "kms-plugin", "--kek-file", kek, "--listen", "unix://"+filepath.Join(dir, "p.sock"))
	if code != 0 || !strings.Contains(errOut, "warning: KEK "+kek) || !strings.Contains(errOut, "hex") {
		t.Errorf("exit %d, want 0 with a warning about the hex KEK:\n%s", code, errOut)
	}
}

// TestKMSErrorsSayItOnce: a KMS error through the envelope layer names
// each layer once ("envelope: kms/local: ..." then the plugin's cause), not
// "envelope: kms/local: envelope: provider cannot be used now: ...".
func TestKMSErrorsSayItOnce(t *testing.T) {
	dir := shortDir(t)
	ep := "unix://" + filepath.Join(dir, "p.sock")
	conf := kmsConfig(t, dir, ep)
	p, err := kmsplugin.NewWithKEKs(kmsplugin.Options{}, bytes.Repeat([]byte{9}, kmsplugin.KEKSize))
	if err != nil {
		t.Fatal(err)
	}
	s, err := kmsplugin.Start(ep, p)
	if err != nil {
		t.Fatal(err)
	}
	code, stored, errOut := atrest(t, []byte("x"), "encrypt", "--config", conf, "--key", "/registry/secrets/a/b")
	if err := s.Stop(); err != nil || code != 0 {
		t.Fatalf("encrypt: exit %d: %s (%v)", code, errOut, err)
	}
	for _, args := range [][]string{
		{"encrypt", "--config", conf, "--key", "/registry/secrets/a/b"},
		{"decrypt", "--config", conf, "--key", "/registry/secrets/a/b"},
	} {
		code, _, errOut := atrest(t, stored, args...)
		if code != 1 || strings.Count(errOut, "envelope:") != 1 || strings.Count(errOut, "kmsv2: KMS plugin unavailable") != 1 ||
			!strings.Contains(errOut, "connect: no such file or directory") {
			t.Errorf("%s: exit %d: %s", args[0], code, errOut)
		}
	}
}

// TestKMSPluginRefusalLogBounded: a local user connecting in a loop cannot
// flood the log: at most 10 refusal lines a minute.
func TestKMSPluginRefusalLogBounded(t *testing.T) {
	var b bytes.Buffer
	refused := refusals(&lockedWriter{w: &b})
	for i := range 25 {
		refused(fmt.Errorf("%w: uid %d", kmsplugin.ErrPeerNotAllowed, i))
	}
	if n := strings.Count(b.String(), "refused a connection"); n != 10 {
		t.Errorf("%d lines for 25 refusals, want 10:\n%s", n, b.String())
	}
}
