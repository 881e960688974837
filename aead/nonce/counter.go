package nonce

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"sync/atomic"
)

// Errors of the Counter nonce source.
var (
	// ErrOptions is returned by NewCounter for options out of range.
	ErrOptions = errors.New("nonce: invalid counter options")
	// ErrSize is returned by FillNonce for a buffer that is not 12 bytes.
	ErrSize = errors.New("nonce: counter nonces are 12 bytes")
)

// Size is the nonce size of the Counter source: the 12 bytes of kube-apiserver's
// aesgcm payload.
const Size = 12

// MaxEpoch is the most writes one prefix serves: the 32-bit counter's range.
const MaxEpoch = 1 << 32

// Options configure a Counter. The zero value is atrest's default strategy.
type Options struct {
	// RandomBits is the number of fresh crypto/rand bits in each nonce, a
	// multiple of 8 from 0 to 32, taken from the epoch prefix (which keeps
	// 64−RandomBits bits). 0 gives the largest margin without VM snapshot
	// restores; 32 bounds the damage of a restore like KMS v2's counter nonce
	// does, at the price of the margin (see risk.AtrestScheme).
	RandomBits int
	// EpochWrites is how many nonces one prefix serves before it is re-drawn;
	// 0 means MaxEpoch, the most the 32-bit counter allows.
	EpochWrites uint64
}

// Counter is atrest's nonce strategy for aesgcm: a 12-byte nonce
//
//	prefix (8 − RandomBits/8 bytes) || fresh random (RandomBits/8 bytes) || counter (4 bytes, big endian)
//
// The prefix is drawn from crypto/rand when the source is made and re-drawn
// after EpochWrites nonces, before the counter wraps; a prefix is never used
// twice by one Counter. Within one epoch the counter makes every nonce
// distinct, so two nonces can only collide when two epochs (of this or
// another process sharing the key: other apiservers, earlier runs) drew the
// same prefix; the bound is risk.AtrestScheme. The payload layout is unchanged,
// so any kube-apiserver decrypts what a GCM with this source writes.
//
// A Counter is safe for concurrent use; the common path is one atomic add.
type Counter struct {
	randomBytes int
	epochWrites uint64

	cur atomic.Pointer[epoch]

	mu   sync.Mutex          // serialises re-draws
	used map[uint64]struct{} // prefixes this Counter has used
}

type epoch struct {
	prefix uint64 // top 64−RandomBits bits used
	next   atomic.Uint64
}

// NewCounter returns a Counter with the given options and a fresh prefix.
func NewCounter(o Options) (*Counter, error) {
	if o.RandomBits < 0 || o.RandomBits > 32 || o.RandomBits%8 != 0 {
		return nil, ErrOptions
	}
	if o.EpochWrites == 0 {
		o.EpochWrites = MaxEpoch
	}
	if o.EpochWrites > MaxEpoch {
		return nil, ErrOptions
	}
	c := &Counter{randomBytes: o.RandomBits / 8, epochWrites: o.EpochWrites, used: map[uint64]struct{}{}}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.redraw(nil); err != nil {
		return nil, err
	}
	return c, nil
}

// redraw installs a new epoch if the current one is still old; c.mu is held.
func (c *Counter) redraw(old *epoch) error {
	if c.cur.Load() != old {
		return nil // another goroutine already did
	}
	prefixBits := 64 - 8*c.randomBytes
	for {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		p := binary.BigEndian.Uint64(b[:]) &^ (math.MaxUint64 >> prefixBits) // keep the top prefixBits
		if _, dup := c.used[p]; dup {
			continue
		}
		c.used[p] = struct{}{}
		c.cur.Store(&epoch{prefix: p})
		return nil
	}
}

// FillNonce writes the next nonce to b, which must be 12 bytes long.
func (c *Counter) FillNonce(b []byte) error {
	if len(b) != Size {
		return ErrSize
	}
	for {
		e := c.cur.Load()
		i := e.next.Add(1) - 1
		if i < c.epochWrites {
			binary.BigEndian.PutUint64(b[:8], e.prefix)
			binary.BigEndian.PutUint32(b[8:], uint32(i))
			if c.randomBytes > 0 {
				if _, err := rand.Read(b[8-c.randomBytes : 8]); err != nil {
					return err
				}
			}
			return nil
		}
		c.mu.Lock()
		err := c.redraw(e)
		c.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// Redraw starts a new epoch with a fresh prefix now. Call it from whatever
// learns that the process was restored from a VM snapshot (a VM-generation
// hook, a thaw hook of the guest agent) before the next write: the restored
// process then no longer replays the prefix the lost timeline used, and the
// restore costs only one more epoch in the bound of risk.AtrestScheme.
func (c *Counter) Redraw() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.redraw(c.cur.Load())
}

// Epochs returns how many prefixes c has drawn.
func (c *Counter) Epochs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.used)
}
