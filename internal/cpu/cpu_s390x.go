//go:build !purego

package cpu

import "golang.org/x/sys/cpu"

func detect() {
	S390X.HasAES = cpu.S390X.HasAES
	S390X.HasAESCBC = cpu.S390X.HasAESCBC
	S390X.HasAESCTR = cpu.S390X.HasAESCTR
	S390X.HasAESGCM = cpu.S390X.HasAESGCM
	S390X.HasGHASH = cpu.S390X.HasGHASH
}
