// Package aesni expands AES keys for atrest's AES-NI and VAES kernels, the
// ones of cbc and of aead's GCM: one key schedule for both, computed with
// AESKEYGENASSIST and AESIMC, no tables, so its time and memory accesses do
// not depend on the key.
//
// It has code on amd64 without the purego tag only; elsewhere no package
// calls it.
package aesni
