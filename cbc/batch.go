package cbc

import (
	"errors"
	"unsafe"

	"github.com/atrest-dev/atrest/internal/alias"
)

// ErrBatchLen is returned by SealBatch when dsts is not nil and does not
// have one entry per plaintext.
var ErrBatchLen = errors.New("cbc: SealBatch needs one dst per plaintext")

// maxLanes is the widest multi-lane kernel (VAES-512: 32 lanes).
const maxLanes = 32

// BatchSize returns how many values one SealBatch call seals best together:
// the widest lane count. Callers that collect values to seal gain nothing
// from larger batches.
func (c *Cipher) BatchSize() int { return maxLanes }

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
// of them. Without a hardware path it seals one value after another.
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
	lanes := batchLanesAvailable(n)
	for i, pt := range plaintexts {
		var dst []byte
		if dsts != nil {
			dst = dsts[i]
		}
		ret, o := alias.SliceForAppend(dst, SealedLen(len(pt)))
		out[i] = ret
		// With the multi-lane kernels the whole blocks of pt are read in place
		// (unless pt overlaps the output); only the tail is copied and padded.
		full := fullBlocks(lanes, pt, o)
		body := o[BlockSize:]
		copy(body[full:], pt[full:]) // first: pt may lie where the IV goes
		pad := len(body) - len(pt)
		for j := len(pt); j < len(body); j++ {
			body[j] = byte(pad)
		}
		copy(o, ivs[i*BlockSize:(i+1)*BlockSize])
	}
	clear(ivs)
	if lanes == 0 {
		for i, pt := range plaintexts {
			o := out[i][len(out[i])-SealedLen(len(pt)):]
			c.encrypt(o[:BlockSize], o[BlockSize:])
		}
		return out, nil
	}
	c.encryptLanes(lanes, out, plaintexts)
	return out, nil
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

// batchLanes is the multi-lane kernels' argument; the generator in _asm
// hard-codes this layout (32 source pointers, 32 destination pointers, then
// 32 chaining values).
type batchLanes struct {
	src, dst [maxLanes]*byte
	iv       [maxLanes][BlockSize]byte
}

// encryptLanes CBC-encrypts the payloads that SealBatch prepared, each
// out[i]'s last SealedLen(len(plaintexts[i])) bytes: IV || body, where the
// body's first fullBlocks bytes are still to be read from plaintexts[i] and
// the rest (tail and padding) is in place.
//
// Each round the free lanes take the next values, lanes still free copy a
// live lane (the kernels load all lanes before they store any, so two lanes
// may encrypt the same blocks to the same bytes), and the kernel runs for as
// many blocks as the shortest live lane has left in its current segment
// (plaintext in place, or the payload's own tail).
func (c *Cipher) encryptLanes(lanes int, out, plaintexts [][]byte) {
	var st batchLanes
	var job [maxLanes]int // value index, or -1 for a free lane
	var off [maxLanes]int // offset in the body of the next block to encrypt
	for l := range job {
		job[l] = -1
	}
	payload := func(i int) []byte { return out[i][len(out[i])-SealedLen(len(plaintexts[i])):] }
	next := 0
	for {
		live, step := -1, 0
		for l := 0; l < lanes; l++ {
			if job[l] < 0 && next < len(out) {
				job[l], off[l] = next, 0
				copy(st.iv[l][:], payload(next)[:BlockSize])
				next++
			}
			if job[l] < 0 {
				continue
			}
			pt, o := plaintexts[job[l]], payload(job[l])
			body := o[BlockSize:]
			full, left := fullBlocks(lanes, pt, o), 0
			if off[l] < full {
				st.src[l], left = &pt[off[l]], full-off[l]
			} else {
				st.src[l], left = &body[off[l]], len(body)-off[l]
			}
			st.dst[l] = &body[off[l]]
			if live < 0 || left/BlockSize < step {
				step = left / BlockSize
			}
			live = l
		}
		if live < 0 {
			break
		}
		for l := 0; l < lanes; l++ {
			if job[l] < 0 {
				st.src[l], st.dst[l], st.iv[l] = st.src[live], st.dst[live], st.iv[live]
			}
		}
		encryptBatch(lanes, &c.hw.enc[0], c.hw.rounds, (*byte)(unsafe.Pointer(&st)), step)
		for l := 0; l < lanes; l++ {
			if job[l] < 0 {
				continue
			}
			off[l] += step * BlockSize
			if off[l] == len(payload(job[l]))-BlockSize {
				job[l] = -1
			}
		}
	}
	clear(st.iv[:])
}
