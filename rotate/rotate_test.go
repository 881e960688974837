package rotate_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/rotate"
	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

func TestMain(m *testing.M) {
	etcdtest.SilenceKlog()
	os.Exit(m.Run())
}

func snapshotAll(t *testing.T, ctx context.Context, cli *clientv3.Client) map[string]int64 {
	t.Helper()
	r, err := cli.Get(ctx, "/registry/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int64{}
	for _, kv := range r.Kvs {
		m[string(kv.Key)] = kv.ModRevision
	}
	return m
}

// TestRotate rotates the mixed fill while a writer keeps updating stale
// keys through kube-apiserver's transformers under the old configuration,
// then once more after the writer stops: no value is lost or changed, the
// writer's last values are kept, and every readable value is fresh.
func TestRotate(t *testing.T) {
	c := etcdtest.New(t, 1)
	cli := c.TestClient(t)
	ctx := etcdtest.WaitContext(t)
	dir := t.TempDir()
	mixed, err := etcdtest.FillMixed(ctx, cli, dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := envelope.ParseConfig([]byte(mixed.Current))
	if err != nil {
		t.Fatal(err)
	}

	// Dry run: counts, writes nothing.
	before := snapshotAll(t, ctx, cli)
	s, err := rotate.Rotate(ctx, cli, cfg, rotate.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := (rotate.Summary{Values: 46, Fresh: 23, Stale: 19, Unreadable: 4}); s != want {
		t.Errorf("dry run: %+v, want %+v", s, want)
	}
	if after := snapshotAll(t, ctx, cli); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("dry run changed etcd")
	}

	// Rotation with a concurrent writer of stale values.
	oldCfg := mixed.Keyring.Config(
		etcdtest.Rule{Resources: []string{"secrets"}, Providers: []string{"aesgcm:k1"}},
		etcdtest.Rule{Resources: []string{"configmaps"}, Providers: []string{"identity"}})
	w := &etcdtest.Writer{Client: cli, Dir: t.TempDir()}
	defer w.Close()
	var mu sync.Mutex
	expect := mixed.Values
	stop := make(chan struct{})
	writerDone := make(chan error, 1)
	targets := []string{"/registry/secrets/kube-system/old-gcm-", "/registry/secrets/kube-system/old-cbc-", "/registry/configmaps/default/plain-"}
	go func() {
		defer close(writerDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key := fmt.Sprintf("%s%d", targets[i%3], (i/3)%4)
			res := "secrets"
			if i%3 == 2 {
				res = "configmaps"
			}
			pt := etcdtest.Object(200 + i)
			mu.Lock() // the expected value changes with the put, under the lock
			err := w.Put(ctx, oldCfg, res, key, pt)
			if err == nil {
				expect[key] = pt
			}
			mu.Unlock()
			if err != nil {
				writerDone <- err
				return
			}
		}
	}()
	s1, err := rotate.Rotate(ctx, cli, cfg, rotate.Options{Workers: 4})
	close(stop)
	if werr := <-writerDone; werr != nil {
		t.Fatal(werr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("with a concurrent writer: %+v", s1)
	if s1.Unreadable != 4 || s1.Rewritten == 0 || s1.Gone != 0 {
		t.Errorf("rotation: %+v", s1)
	}
	s2, err := rotate.Rotate(ctx, cli, cfg, rotate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after: %+v", s2)

	// Every value reads back unchanged (or as the writer left it), fresh,
	// through kube-apiserver's transformers for the current configuration.
	reads := etcdtest.KubeReadAll(t, ctx, cli, mixed.Current, "/registry/")
	if len(reads) != len(expect) {
		t.Fatalf("%d keys, want %d", len(reads), len(expect))
	}
	unreadable := 0
	for _, r := range reads {
		if r.Err != nil {
			unreadable++
			if before[r.Key] != r.ModRevision {
				t.Errorf("%s: unreadable value was rewritten", r.Key)
			}
			continue
		}
		if r.Stale {
			t.Errorf("%s: still stale", r.Key)
		}
		if !bytes.Equal(r.Plain, expect[r.Key]) {
			t.Errorf("%s: value changed or writer's update lost", r.Key)
		}
	}
	if unreadable != 4 {
		t.Errorf("%d unreadable, want 4", unreadable)
	}
	if s2.Stale != 0 && s2.Rewritten != s2.Stale {
		t.Errorf("second rotation: %+v", s2)
	}
	s3, err := rotate.Rotate(ctx, cli, cfg, rotate.Options{DryRun: true})
	if err != nil || s3.Stale != 0 {
		t.Errorf("third rotation found stale values: %+v %v", s3, err)
	}

	// A rotation to an aescbc write key goes through cbc's SealBatch where
	// cbc seals several values together (not in the purego build, whose
	// BatchSize is 1): the 27 readable secrets are stale (all under
	// aesgcm/k2 now); configmaps (10), deployments (3) and plaintext pods
	// (2) are fresh.
	cbcFirst := mixed.Keyring.Config(
		etcdtest.Rule{Resources: []string{"secrets"}, Providers: []string{"aescbc:c1", "aesgcm:k2,k1", "identity"}},
		etcdtest.Rule{Resources: []string{"configmaps"}, Providers: []string{"secretbox:s1", "identity"}},
		etcdtest.Rule{Resources: []string{"*.apps"}, Providers: []string{"aescbc:c1"}})
	cfg2, err := envelope.ParseConfig([]byte(cbcFirst))
	if err != nil {
		t.Fatal(err)
	}
	s4, err := rotate.Rotate(ctx, cli, cfg2, rotate.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	batched := int64(0)
	if c, _ := cbc.New(make([]byte, 32)); c.BatchSize() > 1 {
		batched = 27
	}
	if want := (rotate.Summary{Values: 46, Fresh: 15, Stale: 27, Rewritten: 27, Batched: batched, Unreadable: 4}); s4 != want {
		t.Errorf("rotation to aescbc: %+v, want %+v", s4, want)
	}
	fresh := 0
	for _, r := range etcdtest.KubeReadAll(t, ctx, cli, cbcFirst, "/registry/secrets/") {
		if r.Err != nil {
			continue
		}
		if r.Stale || !bytes.Equal(r.Plain, expect[r.Key]) {
			t.Errorf("%s: stale=%v or changed after the batch rotation", r.Key, r.Stale)
		}
		fresh++
	}
	if fresh != 27 {
		t.Errorf("%d secrets readable after the batch rotation, want 27", fresh)
	}
}
