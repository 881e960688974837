package rotate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/rotate"
	"github.com/atrest-dev/atrest/store"
	"github.com/atrest-dev/atrest/testkit/etcdtest"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// fill writes n values of resource under prefix with kube-apiserver's
// transformers for yaml, and returns them.
func fill(t *testing.T, ctx context.Context, w *etcdtest.Writer, yaml, resource, prefix string, n, size int) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for i := range n {
		k := fmt.Sprintf("%s%04d", prefix, i)
		pt := etcdtest.Object(size)
		if err := w.Put(ctx, yaml, resource, k, pt); err != nil {
			t.Fatal(err)
		}
		m[k] = pt
	}
	return m
}

// kmsConfig writes secrets with a KMS v2 plugin that does not exist, and
// configmaps with aesgcm.
func kmsConfig(kr etcdtest.Keyring) string {
	p := kubepeer.Keyring(kr).Providers
	return kubepeer.Config{Rules: []kubepeer.Rule{
		{Resources: []string{"secrets"}, Providers: append([]kubepeer.Provider{kubepeer.KMS("plugin", "unix:///nonexistent/kms.sock")}, p("aesgcm:k1")...)},
		{Resources: []string{"configmaps"}, Providers: p("aesgcm:k2,k1")},
	}}.YAML()
}

// TestRotateKMSWriteProvider: with KMS v2 as the write provider of
// secrets and its plugin unreachable, --dry-run counted their stale values
// as to be rewritten and --apply aborted on the first batch, leaving other
// resources unrotated. Both modes now count them as unwritable and go on
// (TestRotateKMS does the same with a real plugin that is down).
func TestRotateKMSWriteProvider(t *testing.T) {
	c := etcdtest.New(t, 1)
	cli := c.TestClient(t)
	ctx := etcdtest.WaitContext(t)
	kr := etcdtest.NewKeyring("aesgcm/k1", "aesgcm/k2")
	old := kr.Config(etcdtest.Rule{Resources: []string{"secrets", "configmaps"}, Providers: []string{"aesgcm:k1"}})
	w := &etcdtest.Writer{Client: cli, Dir: t.TempDir()}
	defer w.Close()
	secrets := fill(t, ctx, w, old, "secrets", "/registry/secrets/ns/s", 40, 300)
	cms := fill(t, ctx, w, old, "configmaps", "/registry/configmaps/ns/c", 10, 300)
	cfg, err := envelope.ParseConfig([]byte(kmsConfig(kr)))
	if err != nil {
		t.Fatal(err)
	}
	before := snapshotAll(t, ctx, cli)
	for _, dry := range []bool{true, false} {
		s, err := rotate.Rotate(ctx, cli, cfg, rotate.Options{DryRun: dry, Workers: 3})
		if err != nil {
			t.Fatalf("dry run %v: %v", dry, err)
		}
		want := rotate.Summary{Values: 50, Stale: 50, Unwritable: 40}
		if !dry {
			want.Rewritten = 10
		}
		if s != want {
			t.Errorf("dry run %v: %+v, want %+v", dry, s, want)
		}
	}
	after := snapshotAll(t, ctx, cli)
	for k := range secrets {
		if after[k] != before[k] {
			t.Errorf("%s: a secret under the KMS rule was rewritten", k)
		}
	}
	for k := range cms {
		if after[k] == before[k] {
			t.Errorf("%s: a configmap was not rotated", k)
		}
	}
}

// TestRotateUnresolved: values under keys atrest cannot map to a resource
// were rotated under a guessed rule; now they are counted and left alone.
func TestRotateUnresolved(t *testing.T) {
	c := etcdtest.New(t, 1)
	cli := c.TestClient(t)
	ctx := etcdtest.WaitContext(t)
	kr := etcdtest.NewKeyring("aesgcm/k1", "aesgcm/k2")
	old := kr.Config(etcdtest.Rule{Resources: []string{"*.*"}, Providers: []string{"aesgcm:k1"}})
	w := &etcdtest.Writer{Client: cli, Dir: t.TempDir()}
	defer w.Close()
	fill(t, ctx, w, old, "somethingnew", "/registry/somethingnew/ns/x", 5, 100)
	fill(t, ctx, w, old, "secrets", "/registry/secrets/ns/s", 5, 100)
	cfg, _ := envelope.ParseConfig([]byte(kr.Config(etcdtest.Rule{Resources: []string{"*.*"}, Providers: []string{"aesgcm:k2", "aesgcm:k1"}})))
	before := snapshotAll(t, ctx, cli)
	s, err := rotate.Rotate(ctx, cli, cfg, rotate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (rotate.Summary{Values: 10, Stale: 5, Rewritten: 5, Unresolved: 5}); s != want {
		t.Fatalf("%+v, want %+v", s, want)
	}
	after := snapshotAll(t, ctx, cli)
	for k, rev := range before {
		if strings.Contains(k, "somethingnew") && after[k] != rev {
			t.Errorf("%s was rewritten", k)
		}
	}
}

// TestRotateEtcdGoesAway: etcd goes away in the middle of a rotation,
// stopped (connections reset) or behind a network that drops everything
// (requests never answered). Rotate used to wait silently; now every
// request has a deadline, progress keeps coming by time, and Rotate returns
// a StoppedError with the summary so far within the request timeout. Once
// etcd is back, running the rotation again finishes it: every value is
// fresh and unchanged.
func TestRotateEtcdGoesAway(t *testing.T) {
	for _, how := range []string{"stopped", "partitioned"} {
		t.Run(how, func(t *testing.T) { testEtcdGoesAway(t, how) })
	}
}

func testEtcdGoesAway(t *testing.T, how string) {
	c := etcdtest.New(t, 1)
	direct := c.TestClient(t)
	ctx := etcdtest.WaitContext(t)
	kr := etcdtest.NewKeyring("aesgcm/k1", "aesgcm/k2")
	old := kr.Config(etcdtest.Rule{Resources: []string{"secrets"}, Providers: []string{"aesgcm:k1"}})
	cur := kr.Config(etcdtest.Rule{Resources: []string{"secrets"}, Providers: []string{"aesgcm:k2", "aesgcm:k1"}})
	w := &etcdtest.Writer{Client: direct, Dir: t.TempDir()}
	defer w.Close()
	values := fill(t, ctx, w, old, "secrets", "/registry/secrets/ns/s", 400, 200)
	cfg, _ := envelope.ParseConfig([]byte(cur))

	cli, goAway := direct, c.Close
	if how == "partitioned" {
		p, err := etcdtest.NewProxy(strings.TrimPrefix(c.Endpoints[0], "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if cli, err = store.Dial(ctx, store.Config{Endpoints: []string{"http://" + p.Addr}}); err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		goAway = p.Freeze
	}
	const timeout = 2 * time.Second
	var mu sync.Mutex
	var stopped time.Time
	var afterStop int
	s, err := rotate.Rotate(ctx, cli, cfg, rotate.Options{Workers: 2, RequestTimeout: timeout, ProgressEvery: 100, ProgressInterval: 100 * time.Millisecond,
		Progress: func(s rotate.Summary) {
			mu.Lock()
			defer mu.Unlock()
			if !stopped.IsZero() {
				afterStop++
			}
			if s.Values >= 100 && stopped.IsZero() {
				goAway()
				stopped = time.Now()
			}
		}})
	elapsed := time.Since(stopped)
	var se *rotate.StoppedError
	if !errors.As(err, &se) || se.Summary != s || s.Values < 100 || s.Values == 400 || !strings.Contains(err.Error(), "run it again") {
		t.Fatalf("Rotate after etcd went away: %+v, %v", s, err)
	}
	t.Logf("%s: Rotate returned %v after etcd went away (request timeout %v), %d progress reports since: %v", how, elapsed.Round(time.Millisecond), timeout, afterStop, err)
	if elapsed > timeout+5*time.Second {
		t.Errorf("took %v with a request timeout of %v", elapsed, timeout)
	}
	if how == "partitioned" && afterStop < 5 {
		t.Errorf("%d progress reports while waiting on etcd", afterStop)
	}

	if how == "stopped" {
		if err := c.Restart(); err != nil {
			t.Fatal(err)
		}
	}
	s2, err := rotate.Rotate(ctx, direct, cfg, rotate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run %+v; rerun %+v", s, s2)
	// A rewrite whose answer was lost is found fresh by the rerun.
	if s2.Values != 400 || s2.Rewritten != s2.Stale || s2.Fresh < s.Rewritten || s2.Fresh+s2.Stale != 400 {
		t.Errorf("rerun: %+v after %+v", s2, s)
	}
	reads := etcdtest.KubeReadAll(t, ctx, direct, cur, "/registry/")
	if len(reads) != 400 {
		t.Fatalf("%d keys", len(reads))
	}
	for _, r := range reads {
		if r.Err != nil || r.Stale || !bytes.Equal(r.Plain, values[r.Key]) {
			t.Fatalf("%s: stale %v, %v", r.Key, r.Stale, r.Err)
		}
	}
}

// TestRotateLargeValues: 40 values of about 1 MiB, with a client receive
// limit of 4 MiB: a page of them exceeded it and the rotation failed.
func TestRotateLargeValues(t *testing.T) {
	c := etcdtest.New(t, 1)
	put := c.TestClient(t)
	ctx := etcdtest.WaitContext(t)
	kr := etcdtest.NewKeyring("aesgcm/k1", "aesgcm/k2")
	old := kr.Config(etcdtest.Rule{Resources: []string{"secrets"}, Providers: []string{"aesgcm:k1"}})
	w := &etcdtest.Writer{Client: put, Dir: t.TempDir()}
	defer w.Close()
	fill(t, ctx, w, old, "secrets", "/registry/secrets/ns/big", 40, 1<<20-100)
	cli, err := store.Dial(ctx, store.Config{Endpoints: c.Endpoints, MaxRecvBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	cfg, _ := envelope.ParseConfig([]byte(kr.Config(etcdtest.Rule{Resources: []string{"secrets"}, Providers: []string{"aesgcm:k2", "aesgcm:k1"}})))
	s, err := rotate.Rotate(ctx, cli, cfg, rotate.Options{Workers: 2})
	if err != nil || s.Values != 40 || s.Rewritten != 40 {
		t.Fatalf("%+v, %v", s, err)
	}
}
