package aead_test

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"github.com/atrest-dev/atrest/internal/impl"
)

// threadCPUNanos returns the CPU time the calling thread has used
// (clock_gettime(CLOCK_THREAD_CPUTIME_ID)).
func threadCPUNanos(b *testing.B) int64 {
	const clockThreadCPUTime = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime,
		uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		b.Fatalf("clock_gettime: %v", errno)
	}
	return ts.Nano()
}

// BenchmarkGCMCPUTime is BenchmarkGCM and BenchmarkGCMSmall(Open) with the
// thread's CPU time per operation as an extra metric, cpu-ns/op: on a
// shared VM, where the benchmark is descheduled for much of the wall time,
// it tells paths apart that sec/op cannot. Compare with
// benchstat -col /impl; the figures remain ratios on one CPU.
func BenchmarkGCMCPUTime(b *testing.B) {
	key := make([]byte, 32)
	nonce := make([]byte, 12)
	ad := []byte("/registry/secrets/kube-system/bootstrap-token-abcdef")
	defer impl.Reset("gcm")
	for _, op := range []string{"seal", "open"} {
		for _, n := range []int{0, 16, 64, 256, 1 << 10, 4 << 10, 64 << 10} {
			pt := make([]byte, n)
			for _, name := range append([]string{"crypto-cipher", "auto"}, impl.List("gcm")...) {
				if name == impl.Portable {
					continue
				}
				b.Run(fmt.Sprintf("op=%s/size=%d/impl=%s", op, n, name), func(b *testing.B) {
					seal, open := gcmBenchFuncs(b, name, key, nonce, ad)
					payload := seal(nil, pt)
					dst := make([]byte, 0, len(payload))
					b.SetBytes(int64(n))
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					b.ResetTimer()
					start := threadCPUNanos(b)
					if op == "seal" {
						for b.Loop() {
							seal(dst, pt)
						}
					} else {
						for b.Loop() {
							if _, err := open(dst, payload); err != nil {
								b.Fatal(err)
							}
						}
					}
					b.ReportMetric(float64(threadCPUNanos(b)-start)/float64(b.N), "cpu-ns/op")
				})
			}
		}
	}
}
