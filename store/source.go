package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// KV is the latest revision of one etcd key.
type KV struct {
	Key         []byte
	Value       []byte
	ModRevision int64
}

// Source yields the latest value of every key under a prefix, in key order.
// The KV passed to fn, and its slices, are valid only during the call.
type Source interface {
	Each(ctx context.Context, prefix string, fn func(KV) error) error
	// String describes the source for reports (no credentials).
	String() string
}

// ErrSnapshot is returned for a snapshot file that is not an etcd backend.
var ErrSnapshot = errors.New("store: not an etcd snapshot")

// Etcd reads a live etcd with ranged gets only: it never writes. Pages are
// read at the revision of the first page, so the scan sees one consistent
// state even while the cluster is written to (unless that revision is
// compacted during the scan, which fails it; kube-apiserver compacts every
// five minutes by default).
type Etcd struct {
	Client   *clientv3.Client
	PageSize int64  // keys per range request; 0 means 1000
	Name     string // for String, e.g. the endpoints
	// Unpinned reads every page at the latest revision instead: no single
	// consistent state, but no failure on compaction. Rotation uses it, as
	// its compare-and-swap handles every change.
	Unpinned bool

	rev int64 // revision of the last Each, for reports
}

func (e *Etcd) String() string { return "etcd " + e.Name }

// Revision returns the revision the last Each read at.
func (e *Etcd) Revision() int64 { return e.rev }

// Each implements Source.
func (e *Etcd) Each(ctx context.Context, prefix string, fn func(KV) error) error {
	page := e.PageSize
	if page <= 0 {
		page = 1000
	}
	end := clientv3.GetPrefixRangeEnd(prefix)
	if prefix == "" {
		end = "\x00"
	}
	start := prefix
	e.rev = 0
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(page)}
		if e.rev != 0 && !e.Unpinned {
			opts = append(opts, clientv3.WithRev(e.rev))
		}
		r, err := e.Client.Get(ctx, start, opts...)
		if err != nil {
			return fmt.Errorf("store: reading etcd: %w", err)
		}
		if e.rev == 0 || e.Unpinned {
			e.rev = r.Header.Revision
		}
		for _, kv := range r.Kvs {
			if err := fn(KV{kv.Key, kv.Value, kv.ModRevision}); err != nil {
				return err
			}
		}
		if !r.More || len(r.Kvs) == 0 {
			return nil
		}
		start = string(r.Kvs[len(r.Kvs)-1].Key) + "\x00"
	}
}

// Snapshot reads an etcd snapshot file (etcdctl snapshot save output, or a
// member's member/snap/db) without etcd: it opens the bbolt file read-only,
// walks the "key" bucket, where each mvcc revision maps to a KeyValue
// protobuf, keeps the latest revision of each key and drops keys whose latest
// revision is a deletion (tombstone).
type Snapshot struct {
	Path string
	rev  int64
}

func (s *Snapshot) String() string { return "snapshot " + s.Path }

// Revision returns the highest revision seen by the last Each.
func (s *Snapshot) Revision() int64 { return s.rev }

// revision keys in the key bucket: 8-byte big-endian main revision, '_',
// 8-byte sub revision, then 't' for a tombstone.
const revKeyLen = 17

// Each implements Source. It holds the latest value of every key under
// prefix in memory, as the revisions are stored in revision order.
func (s *Snapshot) Each(ctx context.Context, prefix string, fn func(KV) error) error {
	db, err := bbolt.Open(s.Path, 0o400, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("store: opening snapshot: %w", err)
	}
	defer db.Close()
	latest := map[string]KV{}
	s.rev = 0
	err = db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("key"))
		if b == nil {
			return fmt.Errorf("%w: %s has no key bucket", ErrSnapshot, s.Path)
		}
		c := b.Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) < revKeyLen || k[8] != '_' {
				return fmt.Errorf("%w: unexpected revision key of %d bytes", ErrSnapshot, len(k))
			}
			if n++; n%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			var kv mvccpb.KeyValue
			if err := proto.Unmarshal(v, &kv); err != nil {
				return fmt.Errorf("%w: revision value: %v", ErrSnapshot, err)
			}
			s.rev = max(s.rev, kv.ModRevision)
			if !bytes.HasPrefix(kv.Key, []byte(prefix)) {
				continue
			}
			if len(k) > revKeyLen && k[revKeyLen] == 't' {
				delete(latest, string(kv.Key))
				continue
			}
			// The bbolt memory is valid only inside the transaction; the
			// protobuf decoder already copied the bytes out of it.
			latest[string(kv.Key)] = KV{kv.Key, kv.Value, kv.ModRevision}
		}
		return nil
	})
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	for _, k := range keys {
		if err := fn(latest[k]); err != nil {
			return err
		}
	}
	return nil
}
