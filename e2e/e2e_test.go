package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

// providers are the configurations the benchmark and tests run: the
// provider under test writes; one key each.
var providers = []string{"identity", "aescbc", "aesgcm", "secretbox"}

// side is one way of writing and reading values: atrest's chain or
// kube-apiserver's transformer for the same configuration.
type side struct {
	name    string
	encrypt func(ctx context.Context, key string, pt []byte) ([]byte, error)
	decrypt func(ctx context.Context, key string, stored []byte) ([]byte, error)
}

// sides loads one configuration, writing resource with provider, into
// atrest and into kube-apiserver's loader.
func sides(tb testing.TB, provider, resource string) (atrest, kube side) {
	tb.Helper()
	p := provider
	if p != "identity" {
		p += ":k1"
	}
	kr := etcdtest.NewKeyring("aescbc/k1", "aesgcm/k1", "secretbox/k1")
	yaml := kr.Config(etcdtest.Rule{Resources: []string{resource}, Providers: []string{p}})
	cfg, err := envelope.ParseConfig([]byte(yaml))
	if err != nil {
		tb.Fatal(err)
	}
	ch, err := cfg.For(resource)
	if err != nil {
		tb.Fatal(err)
	}
	k, err := etcdtest.LoadKube(yaml, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(k.Close)
	atrest = side{"atrest",
		func(_ context.Context, key string, pt []byte) ([]byte, error) {
			return ch.Encrypt(nil, pt, []byte(key))
		},
		func(_ context.Context, key string, st []byte) ([]byte, error) {
			pt, _, err := ch.Decrypt(nil, st, []byte(key))
			return pt, err
		}}
	kube = side{"kube",
		func(ctx context.Context, key string, pt []byte) ([]byte, error) {
			return k.Encrypt(ctx, resource, key, pt)
		},
		func(ctx context.Context, key string, st []byte) ([]byte, error) {
			pt, _, err := k.Decrypt(ctx, resource, key, st)
			return pt, err
		}}
	return atrest, kube
}

// TestCrossThroughEtcd writes values through etcd with one side and reads
// them back with the other, for every provider, on a three-member cluster
// when -e2e.members=3.
func TestCrossThroughEtcd(t *testing.T) {
	cli := etcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, p := range providers {
		a, k := sides(t, p, "secrets")
		for _, pair := range [][2]side{{a, k}, {k, a}} {
			w, r := pair[0], pair[1]
			for i, size := range []int{1, 1024, 4096, 65536} {
				key := fmt.Sprintf("/registry/secrets/cross/%s-%s-%d", p, w.name, i)
				pt := etcdtest.Object(size)
				st, err := w.encrypt(ctx, key, pt)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := cli.Put(ctx, key, string(st)); err != nil {
					t.Fatal(err)
				}
				resp, err := cli.Get(ctx, key)
				if err != nil || len(resp.Kvs) != 1 {
					t.Fatalf("get %s: %v", key, err)
				}
				got, err := r.decrypt(ctx, key, resp.Kvs[0].Value)
				if err != nil || !bytes.Equal(got, pt) {
					t.Errorf("%s written by %s, read by %s: %v", p, w.name, r.name, err)
				}
				if p != "identity" && size >= 64 && bytes.Contains(resp.Kvs[0].Value, pt[4:]) {
					t.Errorf("%s: plaintext visible in etcd", p)
				}
			}
		}
	}
}
