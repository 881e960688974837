package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Snapshot reads an etcd snapshot file without etcd: the output of etcdctl
// snapshot save (or clientv3's Maintenance.Snapshot), or a member's
// member/snap/db. It never writes to the file.
//
// Before reading, it checks the file against what it claims to be. etcd's
// snapshot stream ends with the SHA-256 of the bbolt database before it:
// such a file must be exactly the database size its bbolt metadata states
// (page size × high-water mark) plus 32 bytes, and the checksum must match.
// A member's db file carries no checksum; it must be at least the database
// size and whole pages, and nothing more can be verified (Verified says
// which). Every failed check, and any fault or panic while bbolt reads a
// corrupt file (read with runtime/debug.SetPanicOnFault and recovered),
// returns an error matching ErrSnapshot.
//
// Reading walks bbolt's "key" bucket, where each mvcc revision maps to a
// KeyValue protobuf, twice: first the revision keys and the etcd keys only,
// keeping the latest revision of each etcd key under the prefix (dropping
// keys whose latest revision is a deletion), then, in key order, the value
// of each. Memory holds one entry per live key under the prefix (the etcd
// key and its 17-byte revision), never the values.
type Snapshot struct {
	Path string

	rev      int64
	verified string
}

func (s *Snapshot) String() string { return "snapshot " + s.Path }

// Revision returns the highest revision seen by the last Each.
func (s *Snapshot) Revision() int64 { return s.rev }

// Verification results of a snapshot file.
const (
	VerifiedSHA256 = "sha256"             // etcd's checksum matched
	VerifiedNone   = "none (no checksum)" // a member's db file: sizes only
)

// Verified says how the last Each verified the file: VerifiedSHA256 or
// VerifiedNone.
func (s *Snapshot) Verified() string { return s.verified }

// revision keys in the key bucket: 8-byte big-endian main revision, '_',
// 8-byte sub revision, then 't' for a tombstone.
const revKeyLen = 17

// Each implements Source.
func (s *Snapshot) Each(ctx context.Context, prefix string, fn func(KV) error) (err error) {
	s.rev, s.verified = 0, ""
	f, err := os.Open(s.Path)
	if err != nil {
		return fmt.Errorf("store: opening snapshot: %w", err)
	}
	defer f.Close()
	how, err := verify(f)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrSnapshot, s.Path, err)
	}
	s.verified = how

	// bbolt reads the file through a memory map: a corrupt page can fault
	// as well as panic. Both become errors, except in fn, whose panics are
	// the caller's.
	inFn := false
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if inFn {
				panic(r)
			}
			err = fmt.Errorf("%w: %s: reading the bbolt database failed: %v", ErrSnapshot, s.Path, r)
		}
	}()
	db, err := bbolt.Open(s.Path, 0o400, &bbolt.Options{
		ReadOnly: true,
		Timeout:  5 * time.Second,
		OpenFile: func(path string, _ int, _ os.FileMode) (*os.File, error) { return os.OpenFile(path, os.O_RDONLY, 0) },
	})
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrSnapshot, s.Path, err)
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("key"))
		if b == nil {
			return fmt.Errorf("%w: %s has no key bucket: not an etcd backend", ErrSnapshot, s.Path)
		}
		// Pass 1: the latest revision of each etcd key.
		latest := map[string][revKeyLen]byte{}
		c := b.Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			tomb := len(k) == revKeyLen+1 && k[revKeyLen] == 't'
			if len(k) != revKeyLen && !tomb || k[8] != '_' {
				return fmt.Errorf("%w: %s: a revision key of %d bytes", ErrSnapshot, s.Path, len(k))
			}
			if n++; n%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			s.rev = max(s.rev, int64(binary.BigEndian.Uint64(k)))
			key, err := keyOf(v)
			if err != nil {
				return fmt.Errorf("%w: %s: revision %d: %w", ErrSnapshot, s.Path, binary.BigEndian.Uint64(k), err)
			}
			if !bytes.HasPrefix(key, []byte(prefix)) {
				continue
			}
			if tomb {
				delete(latest, string(key))
			} else {
				latest[string(key)] = [revKeyLen]byte(k)
			}
		}
		// Pass 2: the values, in key order.
		keys := make([]string, 0, len(latest))
		for k := range latest {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, strings.Compare)
		for i, key := range keys {
			if i%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			rk := latest[key]
			v := b.Get(rk[:])
			var kv mvccpb.KeyValue
			if v == nil || proto.Unmarshal(v, &kv) != nil || string(kv.Key) != key {
				return fmt.Errorf("%w: %s: revision %d of %q does not read back", ErrSnapshot, s.Path, binary.BigEndian.Uint64(rk[:]), key)
			}
			// The protobuf decoder copied the bytes out of bbolt's memory,
			// which is valid only inside the transaction.
			inFn = true
			err := fn(KV{kv.Key, kv.Value, kv.ModRevision})
			inFn = false
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// keyOf returns field 1 (key) of a KeyValue protobuf without decoding the
// rest.
func keyOf(b []byte) ([]byte, error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			return v, nil
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil, fmt.Errorf("a KeyValue without a key")
}

// bbolt's meta page: a 16-byte page header, then magic, version, page
// size, flags (4 bytes each), the root bucket (root page id and sequence),
// the freelist page id, the high-water mark (pgid), the transaction id and
// an FNV-64a checksum of the fields before it (8 bytes each), in the
// writer's byte order (little endian on every platform etcd supports).
const (
	pageHeaderSize = 16
	metaSize       = 64
	metaMagic      = 0xED0CDAED
	metaVersion    = 2
)

type meta struct {
	pageSize    uint32
	pgid, txid  uint64
	root, flist uint64
}

func parseMeta(p []byte) (meta, bool) {
	if len(p) < pageHeaderSize+metaSize {
		return meta{}, false
	}
	m := p[pageHeaderSize : pageHeaderSize+metaSize]
	le := binary.LittleEndian
	h := fnv.New64a()
	h.Write(m[:56])
	if le.Uint32(m[0:]) != metaMagic || le.Uint32(m[4:]) != metaVersion || le.Uint64(m[56:]) != h.Sum64() {
		return meta{}, false
	}
	return meta{pageSize: le.Uint32(m[8:]), root: le.Uint64(m[16:]), flist: le.Uint64(m[32:]), pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, true
}

// verify checks the file's size against its bbolt metadata and, when it
// carries one, etcd's SHA-256 checksum. It returns how it verified the file.
func verify(f *os.File) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	size := fi.Size()
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("not a regular file")
	}
	head := make([]byte, pageHeaderSize+metaSize)
	if _, err := f.ReadAt(head, 0); err != nil {
		return "", fmt.Errorf("%d bytes: too short for a bbolt database (or empty)", size)
	}
	var metas []meta
	if m, ok := parseMeta(head); ok {
		metas = append(metas, m)
	}
	// The second meta page follows the first page; with the first meta
	// damaged, look for it at every plausible page size.
	for ps := int64(512); ps <= 64<<10; ps *= 2 {
		if len(metas) > 0 && int64(metas[0].pageSize) != ps {
			continue
		}
		if _, err := f.ReadAt(head, ps); err != nil {
			break
		}
		if m, ok := parseMeta(head); ok && int64(m.pageSize) == ps {
			metas = append(metas, m)
			break
		}
	}
	if len(metas) == 0 {
		return "", fmt.Errorf("no valid bbolt meta page: not an etcd snapshot, or its header is corrupt")
	}
	m := metas[0]
	for _, o := range metas[1:] {
		if o.txid > m.txid {
			m = o
		}
	}
	ps := int64(m.pageSize)
	if ps < 512 || ps&(ps-1) != 0 || m.pgid < 2 || m.pgid > 1<<40/uint64(ps) || m.root >= m.pgid {
		return "", fmt.Errorf("implausible bbolt metadata (page size %d, %d pages)", ps, m.pgid)
	}
	dbSize := int64(m.pgid) * ps
	switch {
	case size == dbSize+sha256.Size:
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, dbSize)); err != nil {
			return "", err
		}
		sum := make([]byte, sha256.Size)
		if _, err := f.ReadAt(sum, dbSize); err != nil {
			return "", err
		}
		if !bytes.Equal(sum, h.Sum(nil)) {
			return "", fmt.Errorf("SHA-256 mismatch: the file is not what etcd sent (corrupt or altered)")
		}
		return VerifiedSHA256, nil
	case size >= dbSize && size%ps == 0:
		return VerifiedNone, nil
	case size < dbSize:
		return "", fmt.Errorf("truncated: %d bytes, but its bbolt metadata says %d (%d pages of %d bytes)", size, dbSize, m.pgid, ps)
	}
	return "", fmt.Errorf("%d bytes is neither the %d-byte database (%d pages of %d bytes) nor that and etcd's 32-byte SHA-256", size, dbSize, m.pgid, ps)
}
