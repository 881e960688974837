//go:build darwin || freebsd

package kmsplugin

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// sunPathLen is the size of a socket address's path, its NUL included.
const sunPathLen = len(unix.RawSockaddrUnix{}.Path)

// peerCred reads the credentials the peer of a unix socket had when it
// connected (LOCAL_PEERCRED: uid and groups, the effective gid first).
func peerCred(fd int) (peer, error) {
	x, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return peer{}, err
	}
	n := min(max(int(x.Ngroups), 0), len(x.Groups))
	return peer{uid: x.Uid, gids: append([]uint32(nil), x.Groups[:n]...)}, nil
}

// fileOwner returns the uid that owns a file.
func fileOwner(fi fs.FileInfo) (uint32, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, true
}
