//go:build !linux && !darwin && !freebsd

package kmsplugin

import (
	"errors"
	"io/fs"
)

// sunPathLen is the size of a socket address's path, its NUL included.
const sunPathLen = 108

// peerCred is not implemented here: every connection is refused.
func peerCred(int) (peer, error) {
	return peer{}, errors.ErrUnsupported
}

// fileOwner cannot tell here: a stale socket is never removed.
func fileOwner(fs.FileInfo) (uint32, bool) { return 0, false }
