package ctcheck_test

import (
	"context"
	"crypto/aes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	aestransformer "k8s.io/apiserver/pkg/storage/value/encrypt/aes"
	"k8s.io/apiserver/pkg/storage/value/encrypt/secretbox"

	"k8s.io/apiserver/pkg/storage/value"

	"github.com/atrest-dev/atrest/ctcheck"
)

// The peer's targets run from this test so that k8s.io/apiserver stays a
// test-only dependency. By default TestPeer is a short sanity run; the long
// comparison is
//
//	go test ./ctcheck -run TestPeer -timeout 0 -args -ctcheck.n=1000000 -ctcheck.evict=both -ctcheck.out=results/peer.txt
var (
	peerN         = flag.Int("ctcheck.n", 0, "measurements per class for TestPeer (0: short sanity run)")
	peerEvict     = flag.String("ctcheck.evict", "both", "TestPeer eviction: false, true or both")
	peerEvictSize = flag.Int("ctcheck.evict-size", 0, "bytes walked to evict caches (0: the package default)")
	peerOut       = flag.String("ctcheck.out", "", "append TestPeer's table to this file")
)

// peerTargets are the same classes as atrest's Open targets, run through
// kube-apiserver's transformers (value.DefaultContext as the additional
// data, as the storage layer passes the etcd key).
func peerTargets() []ctcheck.Target {
	transform := func(tr value.Transformer) ctcheck.Opener {
		ctx := context.Background()
		return func(p, ad []byte) ([]byte, error) {
			out, _, err := tr.TransformFromStorage(ctx, p, value.DefaultContext(ad))
			return out, err
		}
	}
	sealWith := func(tr value.Transformer) func(pt, ad []byte) ([]byte, error) {
		return func(pt, ad []byte) ([]byte, error) {
			return tr.TransformToStorage(context.Background(), pt, value.DefaultContext(ad))
		}
	}
	return []ctcheck.Target{
		ctcheck.CBCOpen("", "peer", func(key []byte) (ctcheck.Opener, func(pt, ad []byte) ([]byte, error), error) {
			b, err := aes.NewCipher(key)
			if err != nil {
				return nil, nil, err
			}
			tr := aestransformer.NewCBCTransformer(b)
			return transform(tr), sealWith(tr), nil
		}),
		ctcheck.GCMOpen("", "peer", func(key []byte) (ctcheck.Opener, func(pt, ad []byte) ([]byte, error), error) {
			b, err := aes.NewCipher(key)
			if err != nil {
				return nil, nil, err
			}
			tr, err := aestransformer.NewGCMTransformer(b)
			if err != nil {
				return nil, nil, err
			}
			return transform(tr), sealWith(tr), nil
		}),
		ctcheck.SecretboxOpen("", "peer", func(key []byte) (ctcheck.Opener, func(pt, ad []byte) ([]byte, error), error) {
			tr := secretbox.NewSecretboxTransformer([32]byte(key))
			return transform(tr), sealWith(tr), nil
		}),
	}
}

func TestPeer(t *testing.T) {
	n, batch, size := *peerN, 0, *peerEvictSize
	sanity := n == 0
	if sanity {
		n, batch, size = 1000, 500, 256<<10
	}
	modes, err := ctcheck.EvictModes(*peerEvict)
	if err != nil {
		t.Fatalf("-ctcheck.evict=%q: want false, true or both", *peerEvict)
	}
	var results []ctcheck.Result
	for _, tg := range peerTargets() {
		for _, ev := range modes {
			cfg := ctcheck.Config{N: n, Batch: batch, Evict: ev, EvictSize: size}
			if !sanity && testing.Verbose() {
				cfg.Progress = os.Stderr
			}
			r, err := ctcheck.Run(context.Background(), tg, cfg)
			if err != nil {
				t.Fatalf("%s: %v", tg.ID(), err)
			}
			if r.N[0] < int64(n) || r.N[1] < int64(n) {
				t.Fatalf("%s: n = %v", tg.ID(), r.N)
			}
			results = append(results, r)
		}
	}
	var b strings.Builder
	ctcheck.WriteTable(&b, results)
	t.Logf("kube-apiserver peer (k8s.io/apiserver), |t| threshold %.1f:\n%s", ctcheck.Threshold, b.String())
	if *peerOut != "" {
		f, err := os.OpenFile(*peerOut, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(f, b.String())
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
