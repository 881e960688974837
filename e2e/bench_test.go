package e2e_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

// sizes are Kubernetes-sized objects: typical secrets and a large configmap.
var sizes = []struct {
	name, resource string
	n              int
}{
	{"1KiB-secret", "secrets", 1 << 10},
	{"4KiB-secret", "secrets", 4 << 10},
	{"64KiB-configmap", "configmaps", 64 << 10},
}

// pool is the number of distinct keys each benchmark cycles through.
const pool = 128

// BenchmarkE2E puts and gets values through etcd, transformed by atrest's
// chain (impl=atrest) or kube-apiserver's transformer (impl=kube). It
// reports the time per operation, its p50 and p99, and the share of it spent
// in the transformation (enc-%), which includes kube's per-call overhead.
func BenchmarkE2E(b *testing.B) {
	cli := etcd(b)
	ctx := context.Background()
	for _, op := range []string{"put", "get"} {
		for _, sz := range sizes {
			for _, p := range providers {
				a, k := sides(b, p, sz.resource)
				for _, s := range []side{a, k} {
					b.Run(fmt.Sprintf("op=%s/size=%s/provider=%s/impl=%s", op, sz.name, p, s.name), func(b *testing.B) {
						pt := etcdtest.Object(sz.n)
						keys := make([]string, pool)
						for i := range keys {
							keys[i] = fmt.Sprintf("/registry/%s/bench/%s-%s-%d", sz.resource, p, s.name, i)
							if op == "get" {
								st, err := s.encrypt(ctx, keys[i], pt)
								if err != nil {
									b.Fatal(err)
								}
								if _, err := cli.Put(ctx, keys[i], string(st)); err != nil {
									b.Fatal(err)
								}
							}
						}
						lat := make([]time.Duration, 0, b.N)
						var enc time.Duration
						b.SetBytes(int64(sz.n))
						b.ResetTimer()
						for i := 0; b.Loop(); i++ {
							key := keys[i%pool]
							t0 := time.Now()
							if op == "put" {
								st, err := s.encrypt(ctx, key, pt)
								t1 := time.Now()
								enc += t1.Sub(t0)
								if err != nil {
									b.Fatal(err)
								}
								if _, err := cli.Put(ctx, key, string(st)); err != nil {
									b.Fatal(err)
								}
							} else {
								resp, err := cli.Get(ctx, key)
								if err != nil || len(resp.Kvs) != 1 {
									b.Fatal(err)
								}
								t1 := time.Now()
								if _, err := s.decrypt(ctx, key, resp.Kvs[0].Value); err != nil {
									b.Fatal(err)
								}
								enc += time.Since(t1)
							}
							lat = append(lat, time.Since(t0))
						}
						b.StopTimer()
						if len(lat) == 0 {
							return
						}
						slices.Sort(lat)
						var total time.Duration
						for _, d := range lat {
							total += d
						}
						b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
						b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
						b.ReportMetric(100*enc.Seconds()/total.Seconds(), "enc-%")
					})
				}
			}
		}
	}
}
