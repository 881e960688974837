// Package bench holds atrest's benchmark matrix; it has no API. The matrix
// lives in the package's _test.go files and is run by "make bench":
//
//	BenchmarkTransform/provider=P/op=O/size=S/impl=I
//	BenchmarkTransformParallel/provider=P/op=O/size=S/impl=I   (b.RunParallel)
//	BenchmarkRotation/provider=P/op=decrypt/size=S/impl=I       (value under the chain's second key)
//
// with P ∈ {aescbc, aesgcm, secretbox, identity}, O ∈ {encrypt, decrypt},
// S ∈ {256B, 1KiB, 4KiB, 64KiB, 1MiB} and I one of
//
//	atrest      envelope.Chain with the default dispatch (the fastest path this CPU has)
//	kubernetes  k8s.io/apiserver's prefix transformers, nested provider prefix →
//	            key prefix → transformer as the apiserver builds them, metrics registered
//	stdlib      the bare primitives the apiserver uses (crypto/aes, crypto/cipher GCM/CBC,
//	            x/crypto secretbox, crypto/rand nonces and IVs, PKCS#7) plus the prefix
//	            bytes, with reused buffers
//	generic     atrest with every registered package forced to its generic path (impl.Generic)
//
// BenchmarkTransform also has provider=kms rows (bench/kms_test.go): impl=atrest
// and impl=kubernetes through one local KMS v2 plugin on a unix socket, op=encrypt
// and op=decrypt at every size with a warm DEK cache, and op=decrypt-cold at 4KiB,
// which pays the plugin's Decrypt round trip on every read.
//
// Every benchmark calls b.SetBytes(size) and b.ReportAllocs and reuses its
// output buffer where the implementation lets it (atrest, stdlib, generic); the
// kubernetes transformers allocate their output by design.
//
// Before the first benchmark the test binary prints benchfmt configuration
// lines (go version, commit, CPU features, the active implementation of each
// package) and, where the kernel offers hardware counters, reports
// cpu-cycles/op and instructions/op through github.com/aclements/go-perfevent;
// where it does not, it prints one line to standard error and goes on.
// With -atrest.progress it prints "done/total" progress to standard error.
package bench
