// Package e2e holds the end-to-end benchmark and tests of atrest against a
// real etcd: an embedded etcd server (one member, or three with
// -e2e.members=3) on loopback, started and stopped by the test binary,
// written and read through atrest's chains and through kube-apiserver's own
// transformers. It has no non-test code.
package e2e
