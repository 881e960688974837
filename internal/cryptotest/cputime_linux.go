package cryptotest

import (
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// threadCPUNanos returns the CPU time the calling thread has used, from
// clock_gettime(CLOCK_THREAD_CPUTIME_ID), or -1 if the clock fails.
func threadCPUNanos() int64 {
	const clockThreadCPUTime = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime,
		uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return -1
	}
	return ts.Nano()
}

// CPUTime starts measuring the CPU time of the calling thread, which it
// locks; the returned function, called right after the b.Loop() loop, stops
// and reports it per operation as the metric cpu-ns/op, beside sec/op:
//
//	done := cryptotest.CPUTime(b)
//	for b.Loop() { … }
//	done()
//
// On a shared VM a benchmark is descheduled for part of its wall time,
// which sec/op counts and cpu-ns/op does not; both remain figures of one
// CPU, to be compared as ratios side by side (benchstat -col /impl). Where
// the thread clock is unavailable only sec/op is reported.
func CPUTime(b *testing.B) (done func()) {
	runtime.LockOSThread()
	start := threadCPUNanos()
	return func() {
		end := threadCPUNanos()
		runtime.UnlockOSThread()
		if start >= 0 && end >= 0 && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
