package envelope

import (
	"errors"
	"fmt"
)

// BatchSealer is implemented by ciphers that authenticate no additional data
// and seal many independent values in one call, faster than one by one
// (*cbc.Cipher interleaves the CBC chains of several values). SealBatch
// appends the payload of plaintexts[i] to dsts[i].
type BatchSealer interface {
	SealBatch(dsts, plaintexts [][]byte) ([][]byte, error)
}

// batchSizer is implemented by a BatchSealer that knows how many values one
// SealBatch call seals best together (*cbc.Cipher: its widest lane count).
type batchSizer interface{ BatchSize() int }

// ErrBatchLen is returned when the batch functions get slices of different lengths.
var ErrBatchLen = errors.New("envelope: batch needs one etcd key per value")

// BatchSize returns how many values EncryptBatch and Reencrypt should get in
// one call: the write cipher's batch width when it is a BatchSealer (aescbc),
// 1 otherwise, as larger batches then gain nothing.
func (c *Chain) BatchSize() int {
	e := &c.entries[0]
	if _, ok := e.Cipher.(BatchSealer); !ok || e.sizer == nil {
		return 1
	}
	if bs, ok := e.Cipher.(batchSizer); ok {
		return max(1, bs.BatchSize())
	}
	return 1
}

// EncryptBatch returns what len(plaintexts) calls of Encrypt would, each
// value with its own etcd key. When the write entry's cipher is a
// BatchSealer (aescbc), it seals them in one call.
func (c *Chain) EncryptBatch(plaintexts, etcdKeys [][]byte) ([][]byte, error) {
	if len(plaintexts) != len(etcdKeys) {
		return nil, ErrBatchLen
	}
	e := &c.entries[0]
	if bs, ok := e.Cipher.(BatchSealer); ok && e.sizer != nil {
		dsts := make([][]byte, len(plaintexts))
		for i, pt := range plaintexts {
			dsts[i] = make([]byte, len(e.prefix), len(e.prefix)+e.sizer.SealedLen(len(pt)))
			copy(dsts[i], e.prefix)
		}
		out, err := bs.SealBatch(dsts, plaintexts)
		if err != nil {
			return nil, fmt.Errorf("envelope: %s: %w", e, err)
		}
		return out, nil
	}
	out := make([][]byte, len(plaintexts))
	for i, pt := range plaintexts {
		var err error
		if out[i], err = c.Encrypt(nil, pt, etcdKeys[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Rewrite is the outcome of re-encrypting one stored value.
type Rewrite struct {
	// Stored is the value written anew with the write entry: set only for
	// a stale value that was read and written without error.
	Stored []byte
	// Stale reports that the value was read, but not with the write entry
	// (what Decrypt reports).
	Stale bool
	// Err is why the value could not be read (Stale is false: the errors of
	// Decrypt), or, for a stale value, could not be written with the write
	// entry (the errors of Encrypt; ErrUnsupported for a KMS write entry
	// atrest cannot run).
	Err error
}

// Reencrypt reads every stored value and writes the stale ones again with
// the write entry: the migration step after a key rotation, a batch of
// kube-apiserver's read-then-update of each object, which writes an
// unchanged object back only when it is stale. Fresh values get neither
// Stored nor Err. A value that cannot be read or written gets its error and
// does not stop the others; stale values are sealed in one EncryptBatch
// call. Plaintexts are wiped before Reencrypt returns. Its only error is
// ErrBatchLen.
func (c *Chain) Reencrypt(stored, etcdKeys [][]byte) ([]Rewrite, error) {
	if len(stored) != len(etcdKeys) {
		return nil, ErrBatchLen
	}
	res := make([]Rewrite, len(stored))
	var pts, keys [][]byte
	var idx []int
	defer func() {
		for _, p := range pts {
			clear(p)
		}
	}()
	for i, s := range stored {
		pt, stale, err := c.Decrypt(nil, s, etcdKeys[i])
		if err != nil {
			res[i].Err = err
			continue
		}
		if !stale {
			clear(pt)
			continue
		}
		res[i].Stale = true
		pts, keys, idx = append(pts, pt), append(keys, etcdKeys[i]), append(idx, i)
	}
	if len(pts) == 0 {
		return res, nil
	}
	if c.BatchSize() == 1 {
		// One by one, so that one value's failure is its own.
		for j, i := range idx {
			if out, err := c.Encrypt(nil, pts[j], keys[j]); err != nil {
				res[i].Err = err
			} else {
				res[i].Stored = out
			}
		}
		return res, nil
	}
	out, err := c.EncryptBatch(pts, keys)
	for j, i := range idx {
		if err != nil {
			res[i].Err = err
		} else {
			res[i].Stored = out[j]
		}
	}
	return res, nil
}
