package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/storage/value"
	kkmsv2 "k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/kmsplugin"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// The KMS v2 rows of BenchmarkTransform: provider=kms, impl=atrest and
// impl=kubernetes, both loading the same EncryptionConfiguration whose kms
// provider is a local plugin (package kmsplugin) served over a unix socket.
//
//	op=encrypt, op=decrypt  every size, the DEK in cache (the steady state)
//	op=decrypt-cold         4KiB: the decrypt cache emptied before every read,
//	                        so each pays the plugin's Decrypt round trip
//
// The decrypted value is written by the kubernetes side, so atrest's read
// takes the decrypt cache's general path (not its write state). For the cold
// row, atrest empties its cache (Provider.ResetCache); the apiserver's
// transformer has no such call, so each read builds a fresh one
// (kmsv2.NewEnvelopeTransformer over its gRPC client and a current state),
// which is what a new cache costs there.
const kmsProvider = "kms"

var (
	kmsOps   = []string{"encrypt", "decrypt"}
	kmsImpls = []string{"atrest", "kubernetes"}
	kmsCold  = size{"4KiB", 4 << 10}
)

// kmsCells lists the kms rows of top (BenchmarkTransform).
func kmsCells(top string, sizes []size) []cell {
	var out []cell
	for _, o := range kmsOps {
		for _, s := range sizes {
			for _, i := range kmsImpls {
				out = append(out, cell{top: top, provider: kmsProvider, op: o, size: s, impl: i})
			}
		}
	}
	for _, i := range kmsImpls {
		out = append(out, cell{top: top, provider: kmsProvider, op: "decrypt-cold", size: kmsCold, impl: i})
	}
	return out
}

// setupKMS is setup for provider=kms: a plugin on a fresh socket, both
// sides loaded from one configuration, each checked to read what the other
// writes before timing.
func setupKMS(tb testing.TB, c cell) (op func(dst []byte) ([]byte, error), pt []byte) {
	tb.Helper()
	dir, err := os.MkdirTemp("", "kmsb")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	p, err := kmsplugin.NewWithKEKs(kmsplugin.Options{}, bytes.Repeat([]byte{0x4b}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	endpoint := "unix://" + filepath.Join(dir, "p.sock")
	ln, err := kmsplugin.Listen(endpoint)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { kmsplugin.Serve(ctx, ln, p, 5*time.Second, time.Second); close(served) }()
	tb.Cleanup(func() { cancel(); <-served })

	conf := kubepeer.Config{Rules: []kubepeer.Rule{{Resources: []string{"secrets"},
		Providers: []kubepeer.Provider{kubepeer.KMS("bench", endpoint)}}}}
	cfg, err := envelope.ParseConfig([]byte(conf.YAML()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cfg.Close() })
	ch, _ := cfg.For("secrets")
	m, err := kubepeer.Load(ctx, dir, []byte(conf.YAML()))
	if err != nil {
		tb.Fatal(err)
	}
	ktr := m.For("secrets")
	kube := kubeT{tr: ktr, ctx: context.Background(), dc: value.DefaultContext(etcdKey)}
	atrest := atrestT{ch}

	pt = make([]byte, c.size.n)
	rand.Read(pt)
	stored, err := kube.encrypt(nil, pt)
	if err != nil {
		tb.Fatal(err)
	}
	mine, err := atrest.encrypt(nil, pt)
	if err != nil {
		tb.Fatal(err)
	}
	for _, chk := range []struct {
		by     transformer
		value  []byte
		reader string
	}{{atrest, stored, "atrest"}, {kube, mine, "kubernetes"}, {atrest, mine, "atrest"}, {kube, stored, "kubernetes"}} {
		if got, err := chk.by.decrypt(nil, chk.value); err != nil || !bytes.Equal(got, pt) {
			tb.Fatalf("%s: %s reading a kms value: err=%v equal=%v", c.name(), chk.reader, err, bytes.Equal(got, pt))
		}
	}

	var tr transformer = atrest
	if c.impl == "kubernetes" {
		tr = kube
	}
	switch c.op {
	case "encrypt":
		return func(dst []byte) ([]byte, error) { return tr.encrypt(dst, pt) }, pt
	case "decrypt":
		return func(dst []byte) ([]byte, error) { return tr.decrypt(dst, stored) }, pt
	case "decrypt-cold":
		if c.impl == "kubernetes" {
			return kubeColdRead(tb, ctx, endpoint, stored), pt
		}
		kp, _ := envelope.KMSProvider(ch.Entries()[0])
		return func(dst []byte) ([]byte, error) {
			kp.ResetCache()
			return tr.decrypt(dst, stored)
		}, pt
	}
	tb.Fatalf("unknown op %q", c.op)
	return nil, nil
}

// kubeColdRead reads stored with a new apiserver envelope transformer each
// time (an empty DEK cache), over one gRPC client and a current state.
func kubeColdRead(tb testing.TB, ctx context.Context, endpoint string, stored []byte) func([]byte) ([]byte, error) {
	svc, err := kkmsv2.NewGRPCService(ctx, endpoint, "bench", 3*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tr, obj, cacheKey, err := kkmsv2.GenerateTransformer(ctx, "bench", svc, true)
	if err != nil {
		tb.Fatal(err)
	}
	state := kkmsv2.State{
		Transformer: tr, EncryptedObjectKeyID: obj.KeyID, EncryptedObjectEncryptedDEKSource: obj.EncryptedDEKSource,
		EncryptedObjectAnnotations: obj.Annotations, EncryptedObjectEncryptedDEKSourceType: obj.EncryptedDEKSourceType,
		ExpirationTimestamp: time.Now().Add(time.Hour), CacheKey: cacheKey, KMSProviderName: "bench",
	}
	stateFunc := func() (kkmsv2.State, error) { return state, nil }
	payload := stored[strings.Index(string(stored), "bench:")+len("bench:"):]
	dc := value.DefaultContext(etcdKey)
	return func([]byte) ([]byte, error) {
		et := kkmsv2.NewEnvelopeTransformer(svc, "bench", stateFunc, "atrest-bench")
		out, _, err := et.TransformFromStorage(context.Background(), payload, dc)
		return out, err
	}
}
