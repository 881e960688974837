// Package nonce provides atrest's nonce strategy for aesgcm: Counter, an
// aead.NonceSource whose 12-byte nonces are a random epoch prefix and a
// 32-bit counter, optionally with fresh random bits per write, in
// kube-apiserver's aesgcm payload layout.
//
// The collision risk of Counter, and of every provider's nonce scheme, is
// computed and checked by package risk (risk.AtrestScheme for a Counter's
// Options).
package nonce
