//go:build !linux

package bench

import (
	"errors"
	"testing"
)

type counters struct{}

func probeCounters() error {
	return errors.New("hardware counters are read through Linux perf_event_open only")
}

func openCounters(*testing.B) *counters { return nil }
func (*counters) start()                {}
func (*counters) report(*testing.B)     {}
