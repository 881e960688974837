package risk

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
)

// ErrSimulation is returned by Simulate for parameters out of range.
var ErrSimulation = errors.New("risk: simulation parameters out of range")

// Simulation holds Monte-Carlo first-collision times for random nonces
// truncated to Bits bits.
type Simulation struct {
	Bits   int
	Trials int
	// First[i] is the number of draws after which trial i saw its first
	// repeated value (the draw that repeated included), sorted. A trial
	// "collides within n writes" exactly when its First value is ≤ n.
	First []uint64
}

// Simulate draws uniform bits-bit nonces from rng, trials times, each until
// the first repeat, and records when it happened. bits must be 1..48. If
// progress is not nil it is called after every trial with the number done.
// It stops with ctx's error when ctx is done.
func Simulate(ctx context.Context, rng *rand.Rand, bits, trials int, progress func(done int)) (*Simulation, error) {
	if bits < 1 || bits > 48 || trials < 1 {
		return nil, ErrSimulation
	}
	mask := uint64(1)<<bits - 1
	// Table sized for 8·sqrt(space) draws (P(no repeat) < e^-32), grown on demand.
	want := min(float64(mask)+2, 8*math.Sqrt(math.Ldexp(1, bits)))
	s := newSet(uint64(want))
	out := &Simulation{Bits: bits, Trials: trials, First: make([]uint64, trials)}
	for t := range trials {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var n uint64
		for {
			n++
			if !s.add(rng.Uint64()&mask + 1) { // +1: 0 marks an empty slot
				break
			}
		}
		out.First[t] = n
		s.reset()
		if progress != nil {
			progress(t + 1)
		}
	}
	slices.Sort(out.First)
	return out, nil
}

// Hits returns how many trials saw a collision within n draws.
func (s *Simulation) Hits(n float64) int {
	i, _ := slices.BinarySearch(s.First, uint64(math.Floor(n))+1)
	return i
}

// Rate returns the fraction of trials that collided within n draws.
func (s *Simulation) Rate(n float64) float64 { return float64(s.Hits(n)) / float64(s.Trials) }

// Wilson returns the Wilson score interval for hits successes in trials
// Bernoulli trials, at the normal quantile z (1.96 for 95%, 3.29 for 99.9%).
func Wilson(hits, trials int, z float64) (lo, hi float64) {
	n := float64(trials)
	p := float64(hits) / n
	z2 := z * z
	d := 1 + z2/n
	c := (p + z2/(2*n)) / d
	w := z / d * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	return math.Max(0, c-w), math.Min(1, c+w)
}

// set is an open-addressing hash set of non-zero uint64s that remembers its
// used slots so it can be emptied in time proportional to its size.
type set struct {
	slots []uint64
	used  []uint32
	shift uint
}

func newSet(capacity uint64) *set {
	size := uint64(16)
	for size < 2*capacity {
		size <<= 1
	}
	return &set{slots: make([]uint64, size), shift: uint(64 - bitsLen(size-1))}
}

func bitsLen(x uint64) int {
	n := 0
	for ; x != 0; x >>= 1 {
		n++
	}
	return n
}

// add inserts v and reports whether it was new.
func (s *set) add(v uint64) bool {
	if 2*len(s.used) >= len(s.slots) {
		s.grow()
	}
	m := uint64(len(s.slots) - 1)
	i := (v * 0x9e3779b97f4a7c15) >> s.shift
	for {
		switch s.slots[i] {
		case 0:
			s.slots[i] = v
			s.used = append(s.used, uint32(i))
			return true
		case v:
			return false
		}
		i = (i + 1) & m
	}
}

func (s *set) grow() {
	old := s.slots
	s.slots = make([]uint64, 2*len(old))
	s.shift--
	s.used = s.used[:0]
	for _, v := range old {
		if v != 0 {
			s.add(v)
		}
	}
}

func (s *set) reset() {
	for _, i := range s.used {
		s.slots[i] = 0
	}
	s.used = s.used[:0]
}
