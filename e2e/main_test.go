package e2e_test

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

var (
	members = flag.Int("e2e.members", 1, "etcd members for the benchmark (1 or 3)")
	noFsync = flag.Bool("e2e.nofsync", false, "run etcd with --unsafe-no-fsync (CPU cost without the disk)")
)

var (
	clusterOnce sync.Once
	cluster     *etcdtest.Cluster
	client      *clientv3.Client
	clusterErr  error
	clusterDir  string
)

// etcd returns the process-wide cluster, started on first use and stopped
// by TestMain.
func etcd(tb testing.TB) *clientv3.Client {
	tb.Helper()
	clusterOnce.Do(func() {
		clusterDir, clusterErr = os.MkdirTemp("", "atrest-e2e-")
		if clusterErr != nil {
			return
		}
		cluster, clusterErr = etcdtest.Start(etcdtest.Options{Members: *members, Dir: clusterDir, NoFsync: *noFsync})
		if clusterErr != nil {
			return
		}
		client, clusterErr = cluster.Client()
	})
	if clusterErr != nil {
		tb.Fatal(clusterErr)
	}
	return client
}

func TestMain(m *testing.M) {
	flag.Parse()
	etcdtest.SilenceKlog()
	code := m.Run()
	if client != nil {
		client.Close()
	}
	if cluster != nil {
		cluster.Close()
	}
	if clusterDir != "" {
		os.RemoveAll(clusterDir)
	}
	if code == 0 && cluster != nil && testing.Verbose() {
		fmt.Fprintf(os.Stderr, "e2e: etcd with %d member(s), fsync=%v\n", *members, !*noFsync)
	}
	os.Exit(code)
}
