//go:build !purego

package cpu

func purego() bool { return false }
