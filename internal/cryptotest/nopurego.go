//go:build !purego

package cryptotest

const purego = false
