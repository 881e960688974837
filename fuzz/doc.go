// Package fuzz holds atrest's fuzz suite for every decrypt path: the cbc and
// aead payload primitives, the envelope chain and the configuration loader,
// and differential targets against kube-apiserver's own code
// (k8s.io/apiserver, a test-only dependency). Everything is in the package's
// _test.go files; see the Fuzzing section of README.md for the targets, how to run them and the
// rules that decide whether a disagreement is atrest's fault or the peer's.
//
// Findings about the peer are recorded under findings/ rather than failing;
// any misbehaviour of atrest fails the target.
package fuzz
