//go:build linux

package bench

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/aclements/go-perfevent/events"
	"github.com/aclements/go-perfevent/perf"
)

// counters measures cpu-cycles and instructions of the calling goroutine
// (perf_event_open on this thread, locked to the goroutine while open).
type counters struct {
	c    *perf.Counter
	base [2]perf.Count
}

// probeCounters reports whether the kernel lets this process count cycles
// and instructions, and if not why.
func probeCounters() error {
	c, err := perf.OpenCounter(perf.TargetThisGoroutine, events.EventCPUCycles, events.EventInstructions)
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.EOPNOTSUPP) {
		return fmt.Errorf("perf_event_open(cpu-cycles, instructions): %w (no hardware PMU exposed to this kernel, as in most VMs)", err)
	}
	if err != nil {
		return fmt.Errorf("perf_event_open(cpu-cycles, instructions): %w", err)
	}
	c.Close()
	return nil
}

// openCounters opens the counters for b, stopped; nil (a valid, inert
// *counters) when they are unavailable.
func openCounters(b *testing.B) *counters {
	if !countersOK {
		return nil
	}
	c, err := perf.OpenCounter(perf.TargetThisGoroutine, events.EventCPUCycles, events.EventInstructions)
	if err != nil {
		return nil
	}
	b.Cleanup(c.Close)
	return &counters{c: c}
}

func (pc *counters) start() {
	if pc == nil {
		return
	}
	pc.c.ReadGroup(pc.base[:])
	pc.c.Start()
}

// report stops the counters and reports their increase divided by b.N.
func (pc *counters) report(b *testing.B) {
	if pc == nil {
		return
	}
	pc.c.Stop()
	var now [2]perf.Count
	if err := pc.c.ReadGroup(now[:]); err != nil || b.N == 0 {
		return
	}
	for i, unit := range [2]string{"cpu-cycles/op", "instructions/op"} {
		d := perf.Count{
			RawValue:    now[i].RawValue - pc.base[i].RawValue,
			TimeEnabled: now[i].TimeEnabled - pc.base[i].TimeEnabled,
			TimeRunning: now[i].TimeRunning - pc.base[i].TimeRunning,
		}
		if d.TimeRunning > 0 {
			b.ReportMetric(float64(d.Value())/float64(b.N), unit)
		}
	}
}
