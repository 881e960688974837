package etcdtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apiserver/pkg/storage/value"

	"github.com/atrest-dev/atrest/store"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// Kube holds kube-apiserver's own transformers (k8s.io/apiserver), loaded
// from an EncryptionConfiguration by its own loader: the values they write
// are what a real cluster stores.
type Kube struct {
	m      kubepeer.Transformers
	cancel context.CancelFunc
}

// LoadKube loads the EncryptionConfiguration yaml with kube-apiserver's
// loader. dir receives the file (the loader only reads files).
func LoadKube(yaml, dir string) (*Kube, error) {
	ctx, cancel := context.WithCancel(context.Background())
	m, err := kubepeer.Load(ctx, dir, []byte(yaml))
	if err != nil {
		cancel()
		return nil, err
	}
	return &Kube{m: m, cancel: cancel}, nil
}

// Close stops the loader's background work.
func (k *Kube) Close() { k.cancel() }

// Transformer returns kube-apiserver's transformer for resource
// ("secrets", "deployments.apps").
func (k *Kube) Transformer(resource string) value.Transformer { return k.m.For(resource) }

// Encrypt transforms plaintext for storage under etcdKey, as kube-apiserver
// does before writing it.
func (k *Kube) Encrypt(ctx context.Context, resource string, etcdKey string, plaintext []byte) ([]byte, error) {
	return k.Transformer(resource).TransformToStorage(ctx, plaintext, value.DefaultContext(etcdKey))
}

// Decrypt transforms a stored value back, as kube-apiserver does after reading it.
func (k *Kube) Decrypt(ctx context.Context, resource string, etcdKey string, stored []byte) ([]byte, bool, error) {
	return k.Transformer(resource).TransformFromStorage(ctx, stored, value.DefaultContext(etcdKey))
}

// A KubeRead is kube-apiserver's verdict on one value stored in etcd.
type KubeRead struct {
	Key         string
	ModRevision int64
	Plain       []byte
	Stale       bool
	Err         error // the value's own: kube-apiserver cannot read it
}

// KubeReadAll loads the EncryptionConfiguration yaml with kube-apiserver's
// loader and reads every value under prefix (of the /registry tree) as
// kube-apiserver would, with the transformer of the resource its key names
// (store.ResourceOf). It fails tb if the configuration does not load or
// etcd cannot be read.
func KubeReadAll(tb testing.TB, ctx context.Context, cli *clientv3.Client, yaml, prefix string) []KubeRead {
	tb.Helper()
	kube, err := LoadKube(yaml, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	defer kube.Close()
	resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		tb.Fatal(err)
	}
	reads := make([]KubeRead, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		r := KubeRead{Key: string(kv.Key), ModRevision: kv.ModRevision}
		res, err := store.ResourceOf(r.Key, "/registry")
		if err != nil {
			tb.Fatalf("%s: %v", r.Key, err)
		}
		r.Plain, r.Stale, r.Err = kube.Decrypt(ctx, res.Name, r.Key, kv.Value)
		reads = append(reads, r)
	}
	return reads
}

// RandomKey returns a fresh base64 key of n bytes for a configuration.
func RandomKey(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// Object returns a value shaped like a Kubernetes object in etcd: the
// "k8s\x00" protobuf magic followed by n-4 random bytes (random, so it
// does not compress and does not start with k8s:enc:).
func Object(n int) []byte {
	b := make([]byte, max(n, 4))
	rand.Read(b[4:])
	copy(b, "k8s\x00")
	return b
}

// SilenceKlog discards the peer's klog output (kubepeer.SilenceKlog).
func SilenceKlog() { kubepeer.SilenceKlog() }

// DecodeKey decodes a base64 key of a Keyring.
func DecodeKey(b64 string) ([]byte, error) { return base64.StdEncoding.DecodeString(b64) }
