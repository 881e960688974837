// Package rotate re-encrypts the stale values in etcd, the ones a
// configuration can read but not with its write key, with the write key:
// what kube-apiserver would do on each object's next update, done for all
// of them at once after a key rotation.
//
// Every rewrite is a transaction that puts the new value only if the key's
// mod revision is still the one the value was read at; on a conflict the
// key is read again and the new value considered afresh, so a concurrent
// writer's update is never overwritten.
package rotate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/store"
)

// Options configures a rotation.
type Options struct {
	Prefix     string // keys to consider; "" means EtcdPrefix + "/"
	EtcdPrefix string // kube-apiserver's --etcd-prefix; "" means "/registry"
	// DryRun counts what would be rewritten and writes nothing.
	DryRun bool
	// Workers is the number of concurrent rewrites; 0 means 8.
	Workers int
	// Progress, if set, is called every 10000 values read and at the end.
	Progress func(Summary)
}

// Summary counts what a rotation did.
type Summary struct {
	Values     int64 `json:"values"`     // read
	Fresh      int64 `json:"fresh"`      // already under the write key
	Stale      int64 `json:"stale"`      // read with another key, or in plaintext where encryption is configured
	Rewritten  int64 `json:"rewritten"`  // stale values written back under the write key
	Batched    int64 `json:"batched"`    // of which sealed by a batch call (aescbc write keys)
	Conflicts  int64 `json:"conflicts"`  // compare-and-swap failures, each followed by a re-read
	Gone       int64 `json:"gone"`       // deleted by someone else before the rewrite
	Unreadable int64 `json:"unreadable"` // no configured key reads them: left alone
	Unchecked  int64 `json:"unchecked"`  // KMS v2 values: left alone
}

// MaxAttempts bounds the re-reads of one key that keeps changing.
const MaxAttempts = 100

// ErrBusy is returned when a key changed under every one of MaxAttempts
// rewrites.
var ErrBusy = errors.New("rotate: key kept changing during the rewrite")

// Rotate reads every key under the prefix and rewrites the stale ones with
// the write key of their resource's chain in cfg. Unreadable values are
// left untouched and counted.
func Rotate(ctx context.Context, cli *clientv3.Client, cfg *envelope.Config, o Options) (Summary, error) {
	o.EtcdPrefix, o.Prefix = store.Prefixes(o.EtcdPrefix, o.Prefix)
	if o.Workers <= 0 {
		o.Workers = 8
	}
	r := &rotator{cli: cli, cfg: cfg, o: o, chains: map[string]*envelope.Chain{}}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan store.KV, 2*o.Workers)
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Go(func() {
			b := &batcher{r: r}
			for kv := range work {
				if err := b.add(ctx, kv); err != nil {
					cancel(err)
				}
			}
			if err := b.flush(ctx); err != nil {
				cancel(err)
			}
		})
	}
	src := &store.Etcd{Client: cli, Unpinned: true}
	err := src.Each(ctx, o.Prefix, func(kv store.KV) error {
		n := atomic.AddInt64(&r.sum.Values, 1)
		if o.Progress != nil && n%10000 == 0 {
			o.Progress(r.summary())
		}
		select {
		case work <- store.KV{Key: kv.Key, Value: kv.Value, ModRevision: kv.ModRevision}:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(work)
	wg.Wait()
	if err == nil {
		err = context.Cause(ctx) // a worker's failure, or the caller's cancellation
	}
	s := r.summary()
	if o.Progress != nil {
		o.Progress(s)
	}
	return s, err
}

type rotator struct {
	cli *clientv3.Client
	cfg *envelope.Config
	o   Options
	sum Summary

	mu     sync.Mutex
	chains map[string]*envelope.Chain
}

func (r *rotator) summary() Summary {
	return Summary{
		Values: atomic.LoadInt64(&r.sum.Values), Fresh: atomic.LoadInt64(&r.sum.Fresh),
		Stale: atomic.LoadInt64(&r.sum.Stale), Rewritten: atomic.LoadInt64(&r.sum.Rewritten),
		Batched:   atomic.LoadInt64(&r.sum.Batched),
		Conflicts: atomic.LoadInt64(&r.sum.Conflicts), Gone: atomic.LoadInt64(&r.sum.Gone),
		Unreadable: atomic.LoadInt64(&r.sum.Unreadable), Unchecked: atomic.LoadInt64(&r.sum.Unchecked),
	}
}

func (r *rotator) chain(key string) *envelope.Chain {
	res := store.ResourceOf(key, r.o.EtcdPrefix)
	r.mu.Lock()
	defer r.mu.Unlock()
	if ch, ok := r.chains[res]; ok {
		return ch
	}
	ch, err := r.cfg.For(res)
	if err != nil {
		ch = identityChain
	}
	r.chains[res] = ch
	return ch
}

var identityChain, _ = envelope.NewChain(envelope.Entry{Provider: envelope.Identity, Cipher: envelope.IdentityCipher})

// one rewrites one key if stale, re-reading it after a conflict.
func (r *rotator) one(ctx context.Context, kv store.KV) error {
	return r.retry(ctx, kv, 0)
}

// retry is one from the given attempt on.
func (r *rotator) retry(ctx context.Context, kv store.KV, first int) error {
	key := string(kv.Key)
	ch := r.chain(key)
	value, rev := kv.Value, kv.ModRevision
	for attempt := first; ; attempt++ {
		pt, stale, err := ch.Decrypt(nil, value, kv.Key)
		switch {
		case err == nil:
		case errors.Is(err, envelope.ErrUnsupported):
			atomic.AddInt64(&r.sum.Unchecked, 1)
			return nil
		default:
			atomic.AddInt64(&r.sum.Unreadable, 1)
			return nil
		}
		if !stale {
			atomic.AddInt64(&r.sum.Fresh, 1)
			return nil
		}
		if attempt == 0 {
			atomic.AddInt64(&r.sum.Stale, 1)
		}
		if r.o.DryRun {
			return nil
		}
		if attempt >= MaxAttempts {
			return fmt.Errorf("%w: %s", ErrBusy, key)
		}
		nv, err := ch.Encrypt(nil, pt, kv.Key)
		clear(pt)
		if err != nil {
			return fmt.Errorf("rotate: %s: %w", key, err)
		}
		cur, _, err := r.swap(ctx, key, rev, nv)
		if err != nil || cur == nil {
			return err
		}
		value, rev = cur.Value, cur.ModRevision
	}
}

// swap puts nv at key if its mod revision is still rev, and reports whether
// it did. On a conflict it returns the key's current value, or nil (and
// counts it gone) if deleted.
func (r *rotator) swap(ctx context.Context, key string, rev int64, nv []byte) (*store.KV, bool, error) {
	resp, err := r.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
		Then(clientv3.OpPut(key, string(nv))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return nil, false, fmt.Errorf("rotate: rewriting %s: %w", key, err)
	}
	if resp.Succeeded {
		atomic.AddInt64(&r.sum.Rewritten, 1)
		return nil, true, nil
	}
	atomic.AddInt64(&r.sum.Conflicts, 1)
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		atomic.AddInt64(&r.sum.Gone, 1)
		return nil, false, nil
	}
	return &store.KV{Key: kvs[0].Key, Value: kvs[0].Value, ModRevision: kvs[0].ModRevision}, false, nil
}
