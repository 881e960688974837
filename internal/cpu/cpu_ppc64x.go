//go:build (ppc64 || ppc64le) && !purego

package cpu

import "golang.org/x/sys/cpu"

func detect() {
	PPC64.IsPOWER8 = cpu.PPC64.IsPOWER8
}
