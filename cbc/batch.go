package cbc

import (
	"errors"

	"github.com/atrest-dev/atrest/internal/alias"
)

// ErrBatchLen is returned by SealBatch when dsts is not nil and does not
// have one entry per plaintext.
var ErrBatchLen = errors.New("cbc: SealBatch needs one dst per plaintext")

// SealBatch seals many values at once, for re-encryption during key rotation
// and storage migration. For each i it appends IV || AES-CBC(plaintexts[i] ||
// padding) to dsts[i] (or to nil when dsts is nil) and returns the results in
// a new slice, exactly as len(plaintexts) calls to Seal in index order would,
// reading the IVs from the random source in that order.
//
// CBC encryption of one value is a serial chain of AES latencies; SealBatch
// runs several values' chains interleaved in lanes (8 with AES-NI, 16 with
// VAES, 32 with VAES-512 for more than 16 values), each lane with its own IV
// and length, refilling a lane from the remaining values as soon as its
// value is done, so a lane-full of values costs about as much as the longest
// of them. Where the dispatch table takes no multi-lane kernel for the batch
// (no hardware path, or a CPU it was not measured on) it seals one value
// after another.
//
// plaintexts[i] may overlap dsts[i]'s spare capacity as in Seal, but must not
// overlap the spare capacity of any other dst, and the dsts' spare
// capacities must not overlap each other. On error (a failing random
// source, read before anything is written, or ErrBatchLen) the returned
// slice is nil and no dst's contents are touched.
func (c *Cipher) SealBatch(dsts, plaintexts [][]byte) ([][]byte, error) {
	if dsts != nil && len(dsts) != len(plaintexts) {
		return nil, ErrBatchLen
	}
	n := len(plaintexts)
	var ivStack [16 * BlockSize]byte
	ivs := ivStack[:]
	if n > 16 {
		ivs = make([]byte, n*BlockSize)
	}
	ivs = ivs[:n*BlockSize]
	if err := c.readIV(ivs); err != nil {
		clear(ivs)
		return nil, err
	}
	out := make([][]byte, n)
	total := 0
	for _, pt := range plaintexts {
		total += len(pt)
	}
	k := pickBatch(n, total)
	for i, pt := range plaintexts {
		var dst []byte
		if dsts != nil {
			dst = dsts[i]
		}
		ret, o := alias.SliceForAppend(dst, SealedLen(len(pt)))
		out[i] = ret
		// With the multi-lane kernels the whole blocks of pt are read in place
		// (unless pt overlaps the output); only the tail is copied and padded.
		full := fullBlocks(k.lanes, pt, o)
		body := o[BlockSize:]
		copy(body[full:], pt[full:]) // first: pt may lie where the IV goes
		pad := len(body) - len(pt)
		for j := len(pt); j < len(body); j++ {
			body[j] = byte(pad)
		}
		copy(o, ivs[i*BlockSize:(i+1)*BlockSize])
	}
	clear(ivs)
	c.encryptBatch(k, out, plaintexts)
	return out, nil
}

// encryptEach CBC-encrypts the payloads SealBatch prepared (each out[i]'s
// last SealedLen(len(plaintexts[i])) bytes: IV || padded plaintext) one
// after another through the single-value dispatch, as Seal would.
func (c *Cipher) encryptEach(out, plaintexts [][]byte) {
	for i, pt := range plaintexts {
		o := out[i][len(out[i])-SealedLen(len(pt)):]
		c.encrypt(o[:BlockSize], o[BlockSize:])
	}
}

// fullBlocks returns how many leading bytes of pt the multi-lane kernel reads
// in place rather than from a copy in the payload o: its whole blocks, or
// none if there is no kernel or pt overlaps o.
func fullBlocks(lanes int, pt, o []byte) int {
	if lanes == 0 || alias.AnyOverlap(pt, o) {
		return 0
	}
	return len(pt) &^ (BlockSize - 1)
}
