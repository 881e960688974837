package envelope

import (
	"errors"
	"fmt"
)

// BatchSealer is implemented by ciphers that authenticate no additional data
// and seal many independent values in one call, faster than one by one
// (*cbc.Cipher interleaves up to 16 CBC chains). SealBatch appends the payload
// of plaintexts[i] to dsts[i].
type BatchSealer interface {
	SealBatch(dsts, plaintexts [][]byte) ([][]byte, error)
}

// ErrBatchLen is returned when the batch functions get slices of different lengths.
var ErrBatchLen = errors.New("envelope: batch needs one etcd key per value")

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
	Stored []byte // the value written with the write entry; nil if Err != nil
	Stale  bool   // the old value was stale (not written with the write entry)
	Err    error  // the old value could not be read
}

// Reencrypt reads every stored value and writes it again with the write
// entry, the migration step after a key rotation: a batch of kube-apiserver's
// read-then-update of each object. Values that cannot be read get their error
// in the result and do not stop the others. Plaintexts are wiped before
// Reencrypt returns.
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
		res[i].Stale = stale
		pts, keys, idx = append(pts, pt), append(keys, etcdKeys[i]), append(idx, i)
	}
	out, err := c.EncryptBatch(pts, keys)
	if err != nil {
		return nil, err
	}
	for j, i := range idx {
		res[i].Stored = out[j]
	}
	return res, nil
}
