//go:build purego

package cryptotest

const purego = true
