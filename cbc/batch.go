package cbc

import (
	"errors"
	"unsafe"

	"github.com/atrest-dev/atrest/internal/alias"
)

// ErrBatchLen is returned by SealBatch when dsts is not nil and does not
// have one entry per plaintext.
var ErrBatchLen = errors.New("cbc: SealBatch needs one dst per plaintext")

// maxLanes is the widest multi-lane kernel (VAES-512: 16 lanes).
const maxLanes = 16

// SealBatch seals many values at once, for re-encryption during key rotation
// and storage migration. For each i it appends IV || AES-CBC(plaintexts[i] ||
// padding) to dsts[i] (or to nil when dsts is nil) and returns the results in
// a new slice, exactly as len(plaintexts) calls to Seal in index order would,
// reading the IVs from the random source in that order.
//
// CBC encryption of one value is a serial chain; SealBatch runs up to 16
// values' chains interleaved (8 with AES-NI, 16 with VAES), each lane
// with its own IV and length, so a batch costs about as much as its longest
// member rather than the sum. Without a hardware path it seals one by one.
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
	var ivStack [maxLanes * BlockSize]byte
	ivs := ivStack[:]
	if n > maxLanes {
		ivs = make([]byte, n*BlockSize)
	}
	ivs = ivs[:n*BlockSize]
	if err := c.readIV(ivs); err != nil {
		clear(ivs)
		return nil, err
	}
	out := make([][]byte, n)
	for i, pt := range plaintexts {
		var dst []byte
		if dsts != nil {
			dst = dsts[i]
		}
		ret, o := alias.SliceForAppend(dst, SealedLen(len(pt)))
		body := o[BlockSize:]
		copy(body, pt) // first: pt may lie where the IV goes
		pad := len(body) - len(pt)
		for j := len(pt); j < len(body); j++ {
			body[j] = byte(pad)
		}
		copy(o, ivs[i*BlockSize:(i+1)*BlockSize])
		out[i] = ret
	}
	clear(ivs)
	payload := func(i int) []byte { return out[i][len(out[i])-SealedLen(len(plaintexts[i])):] }
	lanes := batchLanesAvailable()
	if lanes == 0 {
		for i := range out {
			o := payload(i)
			c.encrypt(o[:BlockSize], o[BlockSize:])
		}
		return out, nil
	}
	c.encryptLanes(lanes, n, payload)
	return out, nil
}

// batchLanes is the multi-lane kernels' argument; the generator in _asm
// hard-codes this layout (16 pointers, then 16 chaining values).
type batchLanes struct {
	ptr [maxLanes]*byte
	iv  [maxLanes][BlockSize]byte
}

// encryptLanes CBC-encrypts payload(0..n-1), each IV || padded body, in place
// with the multi-lane kernel of the given width. Each round the free lanes take the next payloads,
// lanes still free copy a live lane (the kernel loads all lanes before it
// stores any, so two lanes may encrypt the same blocks to the same bytes),
// and the kernel runs for as many blocks as the shortest live lane has left.
func (c *Cipher) encryptLanes(lanes, n int, payload func(int) []byte) {
	var st batchLanes
	var job [maxLanes]int // payload index, or -1 for a free lane
	var off [maxLanes]int // offset of the next block to encrypt
	for l := range job {
		job[l] = -1
	}
	next := 0
	for {
		live, step := -1, 0
		for l := 0; l < lanes; l++ {
			if job[l] < 0 && next < n {
				job[l], off[l] = next, BlockSize
				copy(st.iv[l][:], payload(next)[:BlockSize])
				next++
			}
			if job[l] >= 0 {
				p := payload(job[l])
				st.ptr[l] = &p[off[l]]
				if left := (len(p) - off[l]) / BlockSize; live < 0 || left < step {
					step = left
				}
				live = l
			}
		}
		if live < 0 {
			break
		}
		for l := 0; l < lanes; l++ {
			if job[l] < 0 {
				st.ptr[l], st.iv[l] = st.ptr[live], st.iv[live]
			}
		}
		encryptBatch(&c.hw.enc[0], c.hw.rounds, (*byte)(unsafe.Pointer(&st)), step)
		for l := 0; l < lanes; l++ {
			if job[l] < 0 {
				continue
			}
			off[l] += step * BlockSize
			if off[l] == len(payload(job[l])) {
				job[l] = -1
			}
		}
	}
	clear(st.iv[:])
}
