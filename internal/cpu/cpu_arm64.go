//go:build !purego

package cpu

import "golang.org/x/sys/cpu"

func detect() {
	ARM64.HasAES = cpu.ARM64.HasAES
	ARM64.HasPMULL = cpu.ARM64.HasPMULL
}
