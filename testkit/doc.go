// Package testkit holds no code: its sub-packages support atrest's tests.
// kubepeer sets up kube-apiserver's own loader and transformers
// (k8s.io/apiserver) as the peer of differential tests, fuzz targets and
// benchmarks; etcdtest starts embedded etcd servers on loopback and fills
// them through kube-apiserver's transformers. Nothing in the library imports
// them.
package testkit
