package rotate

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/store"
)

// batchSealer is implemented by write ciphers that seal many values in one
// call faster than one by one: *cbc.Cipher, whose SealBatch interleaves the
// serial CBC chains of several values. Its payloads do not depend on the
// etcd key (aescbc has no additional data).
type batchSealer interface {
	SealBatch(dsts, plaintexts [][]byte) ([][]byte, error)
}

// batchSize is the number of stale values sealed per SealBatch call: the
// widest lane count of cbc's kernels.
const batchSize = 32

// batcher collects, per worker, the stale values whose write key can seal
// in batches, seals them together and swaps them in one by one; everything
// else, and every value after a conflict, goes through rotator.one.
type batcher struct {
	r       *rotator
	pending map[*envelope.Chain]*pending
}

type pending struct {
	sealer batchSealer
	prefix string
	kvs    []store.KV
	pts    [][]byte
}

func (b *batcher) add(ctx context.Context, kv store.KV) error {
	r := b.r
	ch := r.chain(string(kv.Key))
	w := ch.Entries()[0]
	bs, ok := w.Cipher.(batchSealer)
	if !ok || r.o.DryRun {
		return r.one(ctx, kv)
	}
	pt, stale, err := ch.Decrypt(nil, kv.Value, kv.Key)
	if err != nil || !stale {
		clear(pt)
		return r.one(ctx, kv) // counts it as fresh, unreadable or unchecked
	}
	atomic.AddInt64(&r.sum.Stale, 1)
	if b.pending == nil {
		b.pending = map[*envelope.Chain]*pending{}
	}
	p := b.pending[ch]
	if p == nil {
		p = &pending{sealer: bs, prefix: w.Prefix()}
		b.pending[ch] = p
	}
	p.kvs = append(p.kvs, kv)
	p.pts = append(p.pts, pt)
	if len(p.kvs) >= batchSize {
		return b.seal(ctx, p)
	}
	return nil
}

// flush seals and swaps everything still pending.
func (b *batcher) flush(ctx context.Context) error {
	for _, p := range b.pending {
		if err := b.seal(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (b *batcher) seal(ctx context.Context, p *pending) error {
	if len(p.kvs) == 0 {
		return nil
	}
	r := b.r
	dsts := make([][]byte, len(p.pts))
	for i := range dsts {
		dsts[i] = []byte(p.prefix)
	}
	out, err := p.sealer.SealBatch(dsts, p.pts)
	for _, pt := range p.pts {
		clear(pt)
	}
	kvs := p.kvs
	p.kvs, p.pts = p.kvs[:0], p.pts[:0]
	if err != nil {
		return fmt.Errorf("rotate: batch of %d values: %w", len(kvs), err)
	}
	for i, kv := range kvs {
		cur, ok, err := r.swap(ctx, string(kv.Key), kv.ModRevision, out[i])
		if err != nil {
			return err
		}
		if ok {
			atomic.AddInt64(&r.sum.Batched, 1)
		}
		if cur == nil {
			continue
		}
		// Someone wrote the key meanwhile: consider the new value afresh,
		// one by one, as a second attempt.
		if err := r.retry(ctx, *cur, 1); err != nil {
			return err
		}
	}
	return nil
}
