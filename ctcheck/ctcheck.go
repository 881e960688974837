// Package ctcheck measures whether an operation's running time depends on
// its input, the way dudect does (Reparaz, Balasch and Verbauwhede, "Dude,
// is my code constant time?", DATE 2017).
//
// A target defines two classes of inputs, typically one fixed input against
// random ones, chosen so that a constant-time implementation cannot tell
// them apart by anything but their secret content (both classes fail the
// same check, or both succeed). Run draws the class of each measurement at
// random, prepares a batch of inputs untimed, times each call, and feeds
// the times to Welch's t-test between the classes, with online (Welford)
// statistics. Measurements are cropped at several percentiles as dudect
// does, and the largest |t| over the crops is the result. |t| above
// Threshold after many measurements means the time depends on the class:
// a leak. A |t| below it is evidence, not proof, of constant time: the
// classes may not exercise the leak, and the timer (time.Now, nanosecond
// resolution, no hardware counters) sees only effects of a few cycles and
// more once averaged over millions of calls.
//
// With Config.Evict, a buffer larger than the per-core caches is walked
// before each call, so table lookups indexed by secrets miss the cache and
// show.
//
// Targets returns atrest's own targets: the Open path of each provider for
// each implementation the CPU has (impl.List), the AES block function and
// key schedule, and the provider constructors. The kube-apiserver peer's
// targets live in this package's tests, so k8s.io/apiserver stays a
// test-only dependency (go test ./ctcheck -run TestPeer -args -h).
package ctcheck

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/atrest-dev/atrest/internal/impl"
)

// Threshold is the |t| above which a result counts as a leak, as in dudect.
const Threshold = 4.5

// ErrUnavailable is returned by Run for a target whose implementation this
// CPU (or build) cannot run.
var ErrUnavailable = errors.New("ctcheck: implementation not available on this CPU")

// A Target is one operation under test on one implementation.
type Target struct {
	Name string // the operation, e.g. "cbc-open"
	Impl string // the implementation, e.g. "generic", "stdlib", "peer"
	// Pkg is the internal/impl package whose implementation Impl is forced
	// with impl.Select for the run; "" forces nothing.
	Pkg string
	// Classes describes the two input classes, for reports.
	Classes string
	// Setup builds the operation, after Pkg's implementation is selected.
	Setup func(rng *rand.Rand) (*Case, error)
}

// ID is the target's name and implementation, "name/impl".
func (t Target) ID() string { return t.Name + "/" + t.Impl }

// A Case is a prepared operation.
type Case struct {
	// InputSize is the length of one input.
	InputSize int
	// Input writes an input of class 0 or 1 into in (InputSize bytes). It is
	// not timed.
	Input func(class int, in []byte, rng *rand.Rand)
	// Op is the timed operation. It must not retain in.
	Op func(in []byte)
}

// Config tunes a run. The zero value is usable.
type Config struct {
	// N is the number of measurements per class; the run stops when both
	// classes have at least N. Default 100 000.
	N int
	// Evict walks a buffer of EvictSize bytes (default 2 MiB, twice the L2
	// of a Zen 4/5 core and forty times its L1) before each measured call.
	Evict     bool
	EvictSize int
	// Batch is the number of measurements whose inputs are prepared at once;
	// the first batch is discarded and sets the crop percentiles. Default
	// 10 000.
	Batch int
	// Seed seeds the class and input generator; 0 picks a random seed.
	Seed uint64
	// Progress, if set, receives a progress line per batch.
	Progress io.Writer
}

func (c Config) withDefaults() Config {
	if c.N <= 0 {
		c.N = 100_000
	}
	if c.EvictSize <= 0 {
		c.EvictSize = 2 << 20
	}
	if c.Batch <= 0 {
		c.Batch = 10_000
	}
	if c.Seed == 0 {
		var b [8]byte
		crand.Read(b[:])
		c.Seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	return c
}

// Result is the outcome of one run.
type Result struct {
	Target  string     `json:"target"`
	Impl    string     `json:"impl"`
	Evict   bool       `json:"evict"`
	N       [2]int64   `json:"n"`       // measurements per class (uncropped)
	MaxT    float64    `json:"max_t"`   // largest |t| over the crops
	Crop    string     `json:"crop"`    // the crop that gave MaxT: "raw" or "p<percentile>"
	MeanNs  [2]float64 `json:"mean_ns"` // uncropped mean time per class
	Leak    bool       `json:"leak"`    // MaxT > Threshold
	Seconds float64    `json:"seconds"` // wall time of the run
	Classes string     `json:"classes"`
}

// Run measures target t. It selects t's implementation for the duration of
// the run (Run is not safe to call concurrently, nor while the selected
// package is in use elsewhere). The garbage collector is off while a batch
// is measured and runs between batches, so collections do not land in
// measurements. Run returns early, with the measurements so far and ctx's
// error, when ctx is done.
func Run(ctx context.Context, t Target, cfg Config) (Result, error) {
	cfg = cfg.withDefaults()
	res := Result{Target: t.Name, Impl: t.Impl, Evict: cfg.Evict, Classes: t.Classes}
	if t.Pkg != "" {
		if !impl.Select(t.Pkg, t.Impl) {
			return res, fmt.Errorf("%w: %s", ErrUnavailable, t.ID())
		}
		defer impl.Reset(t.Pkg)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	c, err := t.Setup(rng)
	if err != nil {
		return res, fmt.Errorf("ctcheck: %s: %w", t.ID(), err)
	}
	var ev *evictor
	if cfg.Evict {
		ev = newEvictor(cfg.EvictSize)
	}
	inputs := make([]byte, cfg.Batch*c.InputSize)
	classes := make([]uint8, cfg.Batch)
	times := make([]float64, cfg.Batch)

	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	start := time.Now()
	var st stats
	for batch := 0; ; batch++ {
		for i := range classes {
			classes[i] = uint8(rng.Uint32() & 1)
			c.Input(int(classes[i]), inputs[i*c.InputSize:(i+1)*c.InputSize], rng)
		}
		measure(c, ev, inputs, times)
		runtime.GC()
		if batch == 0 {
			st.setCrops(times) // warm-up: sets the crops, then discarded
			continue
		}
		for i, x := range times {
			st.add(int(classes[i]), x)
		}
		n0, n1 := st.tests[0].c[0].n, st.tests[0].c[1].n
		maxT, _ := st.max()
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "ctcheck: %s evict=%t: n=%d/%d |t|=%.2f\n", t.ID(), cfg.Evict, n0, n1, maxT)
		}
		if min(n0, n1) >= int64(cfg.N) || ctx.Err() != nil {
			break
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.N = [2]int64{st.tests[0].c[0].n, st.tests[0].c[1].n}
	res.MeanNs = [2]float64{st.tests[0].c[0].mean, st.tests[0].c[1].mean}
	res.MaxT, res.Crop = st.max()
	res.Leak = res.MaxT > Threshold
	if ev != nil {
		runtime.KeepAlive(ev.sink)
	}
	return res, ctx.Err()
}

// measure times c.Op on each input of the batch, in nanoseconds.
//
//go:noinline
func measure(c *Case, ev *evictor, inputs []byte, times []float64) {
	sz := c.InputSize
	for i := range times {
		in := inputs[i*sz : (i+1)*sz : (i+1)*sz]
		if ev != nil {
			ev.walk()
		}
		t0 := time.Now()
		c.Op(in)
		times[i] = float64(time.Since(t0))
	}
}

// ErrEvictMode is returned by EvictModes for anything but "false", "true"
// and "both".
var ErrEvictMode = errors.New("ctcheck: evict must be false, true or both")

// EvictModes turns an -evict flag value into the Config.Evict values to run:
// "false", "true" or "both" (without eviction first).
func EvictModes(s string) ([]bool, error) {
	switch s {
	case "false":
		return []bool{false}, nil
	case "true":
		return []bool{true}, nil
	case "both":
		return []bool{false, true}, nil
	}
	return nil, ErrEvictMode
}
