// Package rotate re-encrypts the stale values in etcd, the ones a
// configuration can read but not with its write key, with the write key:
// what kube-apiserver would do on each object's next update, done for all
// of them at once after a key rotation.
//
// Every rewrite is a transaction that puts the new value only if the key's
// mod revision is still the one the value was read at; on a conflict the
// key is read again and the new value considered afresh, so a concurrent
// writer's update is never overwritten. Values are re-encrypted through
// envelope.Chain.Reencrypt, in batches of the write cipher's BatchSize
// (aescbc seals many values in one call).
//
// Rotation is idempotent: a value already under the write key is left
// alone, so a rotation that stopped (etcd went away, a deadline, an
// interrupt) is resumed by running it again.
//
// KMS v2 values are read and rewritten through their plugin: a value is
// stale when its key ID or DEK source type is not what the provider writes
// now (after a KEK rotation at the plugin). When a plugin cannot be reached,
// its values are counted as unchecked, and stale values whose write
// provider it is as unwritable; both are left alone, and the rotation goes
// on with the rest. Running it again once the plugin is up finishes it.
package rotate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/store"
)

// Options configures a rotation.
type Options struct {
	Prefix     string // keys to consider; "" means EtcdPrefix + "/"
	EtcdPrefix string // kube-apiserver's --etcd-prefix; "" means "/registry"
	// DryRun counts what would be rewritten and writes nothing. It still
	// encrypts each stale value (and discards it), so that it finds the
	// values whose write provider cannot write exactly as a real run would.
	DryRun bool
	// Workers is the number of concurrent rewrites; 0 means 8.
	Workers int
	// RequestTimeout bounds each etcd request (a page of reads, one
	// compare-and-swap); 0 means store.DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Progress, if set, is called every ProgressEvery values read, every
	// ProgressInterval, and at the end. 0 means 10000 values and 10s.
	Progress         func(Summary)
	ProgressEvery    int64
	ProgressInterval time.Duration
}

// Summary counts what a rotation did. Every value read is counted once as
// fresh, stale, unreadable, unchecked or unresolved; a stale value is then
// rewritten, or unwritable, or gone, or left as a concurrent writer
// changed it (a conflict, after which the new value is considered afresh).
// Unchecked and unwritable values are those of a KMS v2 plugin that could
// not be reached (errors matching envelope.ErrUnsupported).
type Summary struct {
	Values     int64 `json:"values"`     // read
	Fresh      int64 `json:"fresh"`      // already under the write key
	Stale      int64 `json:"stale"`      // read with another key, or in plaintext where encryption is configured
	Rewritten  int64 `json:"rewritten"`  // stale values written back under the write key
	Batched    int64 `json:"batched"`    // of which sealed by a batch call (aescbc write keys)
	Conflicts  int64 `json:"conflicts"`  // compare-and-swap failures, each followed by a re-read
	Gone       int64 `json:"gone"`       // deleted by someone else before the rewrite
	Unreadable int64 `json:"unreadable"` // no configured key reads them: left alone
	Unchecked  int64 `json:"unchecked"`  // KMS v2 values whose plugin was unreachable: left alone
	// Unwritable stale values have a write provider that could not be used
	// (a KMS v2 plugin that was unreachable): left alone.
	Unwritable int64 `json:"unwritable"`
	// Unresolved values are under keys atrest cannot map to a resource
	// (store.ErrUnknownResource), so it does not know their chain: left
	// alone.
	Unresolved int64 `json:"unresolved"`
}

// MaxAttempts bounds the re-reads of one key that keeps changing.
const MaxAttempts = 100

// ErrBusy is returned when a key changed under every one of MaxAttempts
// rewrites.
var ErrBusy = errors.New("rotate: key kept changing during the rewrite")

// StoppedError is returned when a rotation stops before it read every key:
// it carries what was done so far. Rerunning the rotation resumes it.
type StoppedError struct {
	Summary Summary
	Err     error
}

func (e *StoppedError) Error() string {
	s := e.Summary
	return fmt.Sprintf("rotate: stopped after %d values read (%d stale, %d rewritten): %v; "+
		"every rewrite done is complete and consistent, and rotation is idempotent: run it again to finish", s.Values, s.Stale, s.Rewritten, e.Err)
}

func (e *StoppedError) Unwrap() error { return e.Err }

// unwritable reports whether a write error means the write provider cannot
// be used now (a KMS v2 plugin that is unreachable), so the value is skipped
// (and counted), not a failure.
func unwritable(err error) bool { return errors.Is(err, envelope.ErrUnsupported) }

// Rotate reads every key under the prefix and rewrites the stale ones with
// the write key of their resource's chain in cfg. Unreadable values, values
// atrest cannot write and values of resources it cannot resolve are left
// untouched and counted. On a failure it returns the summary so far and a
// *StoppedError.
func Rotate(ctx context.Context, cli *clientv3.Client, cfg *envelope.Config, o Options) (Summary, error) {
	var err error
	if o.EtcdPrefix, o.Prefix, err = store.Prefixes(o.EtcdPrefix, o.Prefix); err != nil {
		return Summary{}, err
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = store.DefaultRequestTimeout
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 10000
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 10 * time.Second
	}
	r := &rotator{cli: cli, cfg: cfg, o: o, chains: map[string]*envelope.Chain{}}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan store.KV, 2*o.Workers)
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Go(func() {
			b := &batcher{r: r, pending: map[*envelope.Chain][]store.KV{}}
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
	// Progress is reported by count from the reader and by time from a
	// ticker, never concurrently.
	var progressMu sync.Mutex
	progress := func() {
		progressMu.Lock()
		defer progressMu.Unlock()
		o.Progress(r.summary())
	}
	tickDone := make(chan struct{})
	var ticker sync.WaitGroup
	if o.Progress != nil {
		t := time.NewTicker(o.ProgressInterval)
		ticker.Go(func() {
			defer t.Stop()
			for {
				select {
				case <-t.C:
					progress()
				case <-tickDone:
					return
				}
			}
		})
	}
	src := &store.Etcd{Client: cli, Unpinned: true, RequestTimeout: o.RequestTimeout}
	err = src.Each(ctx, o.Prefix, func(kv store.KV) error {
		n := r.n.values.Add(1)
		if o.Progress != nil && n%o.ProgressEvery == 0 {
			progress()
		}
		select {
		case work <- kv: // Etcd's KVs stay valid after the call
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(work)
	wg.Wait()
	close(tickDone)
	ticker.Wait()
	if cause := context.Cause(ctx); cause != nil && (err == nil || errors.Is(err, context.Canceled)) {
		err = cause // a worker's failure, or the caller's cancellation
	}
	s := r.summary()
	if o.Progress != nil {
		o.Progress(s)
	}
	if err != nil {
		return s, &StoppedError{Summary: s, Err: err}
	}
	return s, nil
}

// counters is Summary, counted concurrently.
type counters struct {
	values, fresh, stale, rewritten, batched, conflicts, gone,
	unreadable, unchecked, unwritable, unresolved atomic.Int64
}

type rotator struct {
	cli *clientv3.Client
	cfg *envelope.Config
	o   Options
	n   counters

	mu     sync.Mutex
	chains map[string]*envelope.Chain
}

func (r *rotator) summary() Summary {
	n := &r.n
	return Summary{
		Values: n.values.Load(), Fresh: n.fresh.Load(), Stale: n.stale.Load(),
		Rewritten: n.rewritten.Load(), Batched: n.batched.Load(), Conflicts: n.conflicts.Load(),
		Gone: n.gone.Load(), Unreadable: n.unreadable.Load(), Unchecked: n.unchecked.Load(),
		Unwritable: n.unwritable.Load(), Unresolved: n.unresolved.Load(),
	}
}

// chain returns the chain of the key's resource, or nil (counted
// unresolved) if atrest cannot tell the resource.
func (r *rotator) chain(key []byte) *envelope.Chain {
	res, err := store.ResourceOf(string(key), r.o.EtcdPrefix)
	if err != nil {
		r.n.unresolved.Add(1)
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ch, ok := r.chains[res.Name]; ok {
		return ch
	}
	ch, err := store.ChainFor(r.cfg, res)
	if err != nil { // a name no rule can hold
		r.n.unresolved.Add(1)
		return nil
	}
	r.chains[res.Name] = ch
	return ch
}

// batcher collects, per worker and per chain, values until a batch of the
// chain's BatchSize is full, and re-encrypts and swaps them together.
type batcher struct {
	r       *rotator
	pending map[*envelope.Chain][]store.KV
}

func (b *batcher) add(ctx context.Context, kv store.KV) error {
	ch := b.r.chain(kv.Key)
	if ch == nil {
		return nil
	}
	p := append(b.pending[ch], kv)
	if len(p) < ch.BatchSize() {
		b.pending[ch] = p
		return nil
	}
	delete(b.pending, ch)
	return b.r.rewrite(ctx, ch, p, 0)
}

// flush re-encrypts and swaps everything still pending.
func (b *batcher) flush(ctx context.Context) error {
	for ch, p := range b.pending {
		delete(b.pending, ch)
		if err := b.r.rewrite(ctx, ch, p, 0); err != nil {
			return err
		}
	}
	return nil
}

// rewrite re-encrypts the stale values of kvs and swaps each in; attempt
// counts the re-reads after conflicts (0 for values as first read).
func (r *rotator) rewrite(ctx context.Context, ch *envelope.Chain, kvs []store.KV, attempt int) error {
	stored := make([][]byte, len(kvs))
	keys := make([][]byte, len(kvs))
	for i, kv := range kvs {
		stored[i], keys[i] = kv.Value, kv.Key
	}
	res, err := ch.Reencrypt(stored, keys)
	if err != nil {
		return err
	}
	first := attempt == 0
	for i, x := range res {
		kv := kvs[i]
		switch {
		case !x.Stale && x.Err == nil:
			if first {
				r.n.fresh.Add(1)
			}
			continue
		case !x.Stale:
			if first && errors.Is(x.Err, envelope.ErrUnsupported) {
				r.n.unchecked.Add(1)
			} else if first {
				r.n.unreadable.Add(1)
			}
			continue
		}
		if first {
			r.n.stale.Add(1)
		}
		if x.Err != nil {
			if unwritable(x.Err) {
				r.n.unwritable.Add(1)
				continue
			}
			return fmt.Errorf("rotate: %q: %w", kv.Key, x.Err)
		}
		if r.o.DryRun {
			continue
		}
		if attempt >= MaxAttempts {
			return fmt.Errorf("%w: %q", ErrBusy, kv.Key)
		}
		cur, ok, err := r.swap(ctx, string(kv.Key), kv.ModRevision, x.Stored)
		if err != nil {
			return err
		}
		if ok && ch.BatchSize() > 1 {
			r.n.batched.Add(1)
		}
		if cur != nil {
			// Someone wrote the key meanwhile: consider the new value afresh.
			if err := r.rewrite(ctx, ch, []store.KV{*cur}, attempt+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// swap puts nv at key if its mod revision is still rev, and reports whether
// it did. On a conflict it returns the key's current value, or nil (and
// counts it gone) if deleted.
func (r *rotator) swap(ctx context.Context, key string, rev int64, nv []byte) (*store.KV, bool, error) {
	tctx, cancel := context.WithTimeout(ctx, r.o.RequestTimeout)
	defer cancel()
	resp, err := r.cli.Txn(tctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
		Then(clientv3.OpPut(key, string(nv))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v: %w", r.o.RequestTimeout, err)
		}
		return nil, false, fmt.Errorf("rotate: rewriting %q: %w", key, err)
	}
	if resp.Succeeded {
		r.n.rewritten.Add(1)
		return nil, true, nil
	}
	r.n.conflicts.Add(1)
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		r.n.gone.Add(1)
		return nil, false, nil
	}
	return &store.KV{Key: kvs[0].Key, Value: kvs[0].Value, ModRevision: kvs[0].ModRevision}, false, nil
}
