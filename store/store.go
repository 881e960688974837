// Package store reads the values kube-apiserver keeps in etcd, from a live
// etcd (Etcd, ranged gets only) or a snapshot file (Snapshot, opened
// read-only and verified), and maps their etcd keys to the resources an
// EncryptionConfiguration names (ResourceOf). Nothing in it writes.
package store

import (
	"context"
	"errors"
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

// ErrSnapshot is matched by every error that says a snapshot file is
// corrupt, truncated, not an etcd backend, or cannot be verified.
var ErrSnapshot = errors.New("store: corrupt or unverifiable snapshot")
