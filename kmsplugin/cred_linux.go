package kmsplugin

import (
	"errors"
	"io/fs"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sunPathLen is the size of a socket address's path, its NUL included.
const sunPathLen = len(unix.RawSockaddrUnix{}.Path)

// peerCred reads the credentials the peer of a unix socket had when it
// connected: SO_PEERCRED (uid, gid, pid) and SO_PEERGROUPS (supplementary
// groups; Linux 4.13 and later, else the gid alone).
func peerCred(fd int) (peer, error) {
	u, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return peer{}, err
	}
	p := peer{uid: u.Uid, gids: []uint32{u.Gid}, pid: u.Pid}
	groups, err := peerGroups(fd)
	if err != nil && !errors.Is(err, unix.ENOPROTOOPT) {
		return peer{}, err
	}
	for _, g := range groups {
		if g != u.Gid {
			p.gids = append(p.gids, g)
		}
	}
	return p, nil
}

func peerGroups(fd int) ([]uint32, error) {
	buf := make([]uint32, 32)
	for range 3 {
		n := uint32(len(buf) * 4)
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERGROUPS,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
		switch e {
		case 0:
			return buf[:n/4], nil
		case unix.ERANGE: // n is the size needed
			buf = make([]uint32, n/4+1)
		default:
			return nil, e
		}
	}
	return nil, unix.ERANGE
}

// fileOwner returns the uid that owns a file.
func fileOwner(fi fs.FileInfo) (uint32, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, true
}
