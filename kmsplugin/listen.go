package kmsplugin

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
)

var (
	// ErrEndpoint: the endpoint is not unix:///absolute/path (or
	// unix:///@name), or its path does not fit in a socket address.
	ErrEndpoint = errors.New("kmsplugin: invalid endpoint")
	// ErrAbstract: the endpoint is a Linux abstract socket and the
	// ListenConfig does not allow one (AllowAbstract).
	ErrAbstract = errors.New("kmsplugin: abstract socket refused")
	// ErrSocketInUse: another process listens on the socket, or may: a test
	// connection did not fail with "connection refused" (it was accepted,
	// the backlog was full, it was denied or timed out), so the socket is
	// left alone.
	ErrSocketInUse = errors.New("kmsplugin: the socket is in use")
	// ErrNotSocket: the socket path exists and is not a socket (a regular
	// file, a directory, a symbolic link, ...); it is left alone.
	ErrNotSocket = errors.New("kmsplugin: the socket path exists and is not a socket")
	// ErrSocketOwner: the socket path is a socket of another user; it is
	// left alone.
	ErrSocketOwner = errors.New("kmsplugin: the socket belongs to another user")
	// ErrPeerNotAllowed: a connection came from a process whose user and
	// groups the ListenConfig does not allow; it was closed unserved.
	ErrPeerNotAllowed = errors.New("kmsplugin: peer not allowed")
)

// ListenConfig says who may connect to a plugin: whoever connects can have
// DEKs decrypted, so every connection's peer credentials (SO_PEERCRED on
// Linux, LOCAL_PEERCRED on macOS and FreeBSD) are checked before gRPC sees
// it. A peer is allowed when its effective uid is the plugin's own
// (os.Geteuid at Listen), or is in AllowUIDs, or one of its groups (the
// effective gid and, where the kernel reports them, the supplementary
// groups it had when it connected) is in AllowGIDs. Other connections are
// closed at once, and reported to Refused. Where the system cannot tell a
// peer's credentials, every connection is refused. The zero ListenConfig
// admits the plugin's own user only and refuses abstract sockets.
type ListenConfig struct {
	AllowUIDs []uint32
	AllowGIDs []uint32
	// AllowAbstract lets Listen open a Linux abstract socket
	// (unix:///@name). It has no file permissions: any process in the
	// network namespace can connect (the peer check still refuses those not
	// allowed), and any can take the name first and receive the plaintext
	// DEKs kube-apiserver sends to Encrypt. Prefer a socket file.
	AllowAbstract bool
	// Refused, if set, is called for each refused connection with an
	// error matching ErrPeerNotAllowed that names the peer's uid, gids and
	// pid. It is called from the accept loop: it must not block.
	Refused func(error)
}

// Listen is ListenConfig{}.Listen: a socket only the plugin's own user may
// use.
func Listen(endpoint string) (net.Listener, error) {
	var c ListenConfig
	return c.Listen(endpoint)
}

// Listen opens the unix socket of endpoint (unix:///path, or unix:///@name
// for a Linux abstract socket when AllowAbstract) for Serve, with the peer
// check of c on every connection.
//
// A socket file is created mode 0600 when only the plugin's own user is
// allowed, and 0666 when AllowUIDs or AllowGIDs names others (so that the
// kernel lets them connect; the peer check is then what keeps everyone
// else out). What exists at the path is replaced only when it is a socket
// owned by the plugin's user on which a test connection is refused (a
// socket left by a plugin that is gone); anything else is left alone and
// reported: ErrNotSocket (a file, a directory, a symbolic link),
// ErrSocketOwner, ErrSocketInUse.
func (c *ListenConfig) Listen(endpoint string) (net.Listener, error) {
	path, abstract, err := c.socketPath(endpoint)
	if err != nil {
		return nil, err
	}
	self := uint32(os.Geteuid())
	if !abstract {
		if err := removeStale(path, self); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if !abstract {
		mode := os.FileMode(0o600)
		if len(c.AllowUIDs) > 0 || len(c.AllowGIDs) > 0 {
			mode = 0o666
		}
		if err := os.Chmod(path, mode); err != nil {
			ln.Close()
			return nil, err
		}
	}
	return c.wrap(ln, self), nil
}

// CheckEndpoint reports whether Listen can use endpoint, by its form
// alone: ErrEndpoint or ErrAbstract if not. It has no side effect.
func (c *ListenConfig) CheckEndpoint(endpoint string) error {
	_, _, err := c.socketPath(endpoint)
	return err
}

// socketPath returns the socket address of endpoint, as
// k8s.io/kms/pkg/util.ParseEndpoint (which kube-apiserver uses to dial)
// reads it, refusing what would not name a socket: a relative path
// (unix://x.sock makes x.sock the host part), no path, a query or fragment
// (the client would drop them), a path longer than a socket address holds.
func (c *ListenConfig) socketPath(endpoint string) (path string, abstract bool, err error) {
	bad := func(format string, args ...any) (string, bool, error) {
		return "", false, fmt.Errorf("%w %q: %s", ErrEndpoint, endpoint, fmt.Sprintf(format, args...))
	}
	if endpoint == "" {
		return bad("empty; want unix:///path.sock")
	}
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
		return bad("not a URL: %v", err)
	case u.Scheme != "unix":
		return bad("the scheme must be unix (unix:///path.sock)")
	case u.Host != "" || u.Opaque != "":
		return bad("the socket path must be absolute: unix:///path.sock, with three slashes (unix://%s%s names a host)", u.Host+u.Opaque, u.Path)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return bad("a query, fragment or user is not part of a socket path")
	case u.Path == "" || u.Path == "/":
		return bad("no socket path; want unix:///path.sock")
	}
	path = u.Path
	if strings.HasPrefix(path, "/@") {
		path, abstract = path[1:], true
		if len(path) > sunPathLen {
			return bad("abstract socket name too long (%d bytes, max %d)", len(path), sunPathLen)
		}
		if !c.AllowAbstract {
			return "", false, fmt.Errorf("%w: %q is a Linux abstract socket, which has no file permissions: any local process can connect to it or take its name first", ErrAbstract, endpoint)
		}
		return path, true, nil
	}
	if len(path) > sunPathLen-1 {
		return bad("socket path too long (%d bytes, max %d)", len(path), sunPathLen-1)
	}
	return path, false, nil
}

// removeStale makes way at path for a new socket: nothing there is fine; a
// socket of self's on which a test connection is refused is removed; all
// else is refused.
func removeStale(path string, self uint32) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSocket == 0:
		return fmt.Errorf("%w: %s is %s; remove it or choose another path", ErrNotSocket, path, fileKind(fi.Mode()))
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("%w: another process is listening on %s", ErrSocketInUse, path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w: %s: a test connection failed with %v, not \"connection refused\": another process may be listening on it", ErrSocketInUse, path, unwrapOp(err))
	}
	if uid, ok := fileOwner(fi); !ok || uid != self {
		owner := "an unknown user"
		if ok {
			owner = fmt.Sprintf("uid %d", uid)
		}
		return fmt.Errorf("%w: %s belongs to %s, not to this plugin's uid %d: left alone", ErrSocketOwner, path, owner, self)
	}
	// Refused: no one listens. Remove it unless it was replaced meanwhile.
	if now, err := os.Lstat(path); err != nil || !os.SameFile(fi, now) {
		return fmt.Errorf("%w: %s changed while it was tested", ErrSocketInUse, path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// unwrapOp drops the "dial unix PATH:" of a net.OpError, whose path the
// message already names.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// peer is who is at the other end of a connection.
type peer struct {
	uid  uint32
	gids []uint32 // the effective gid first
	pid  int32    // 0 if unknown
}

func (p peer) String() string {
	s := fmt.Sprintf("uid %d gids %v", p.uid, p.gids)
	if p.pid > 0 {
		s += fmt.Sprintf(" pid %d", p.pid)
	}
	return s
}

// checkedListener admits the connections of allowed peers only.
type checkedListener struct {
	net.Listener
	self    uint32
	uids    []uint32
	gids    []uint32
	refused func(error)
}

func (c *ListenConfig) wrap(ln net.Listener, self uint32) *checkedListener {
	return &checkedListener{Listener: ln, self: self, uids: slices.Clone(c.AllowUIDs), gids: slices.Clone(c.AllowGIDs), refused: c.Refused}
}

// Accept returns the next connection of an allowed peer, closing the
// others.
func (l *checkedListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		err = l.check(conn)
		if err == nil {
			return conn, nil
		}
		conn.Close()
		if l.refused != nil {
			l.refused(err)
		}
	}
}

func (l *checkedListener) check(conn net.Conn) error {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("%w: not a unix socket connection (%s)", ErrPeerNotAllowed, conn.RemoteAddr())
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPeerNotAllowed, err)
	}
	var (
		p    peer
		perr error
	)
	if err := rc.Control(func(fd uintptr) { p, perr = peerCred(int(fd)) }); err != nil {
		return fmt.Errorf("%w: %v", ErrPeerNotAllowed, err)
	}
	if perr != nil {
		return fmt.Errorf("%w: cannot tell who connected: %v", ErrPeerNotAllowed, perr)
	}
	if p.uid == l.self || slices.Contains(l.uids, p.uid) || slices.ContainsFunc(p.gids, func(g uint32) bool { return slices.Contains(l.gids, g) }) {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrPeerNotAllowed, p)
}
