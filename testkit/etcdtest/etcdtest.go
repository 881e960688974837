// Package etcdtest starts real etcd servers (go.etcd.io/etcd/server/v3/embed)
// on loopback for tests, benchmarks and demonstrations, and fills them with
// values written by kube-apiserver's own transformers. It is used only by
// tests, benchmarks and the e2e helper commands, so the etcd server stays out
// of the atrest command.
package etcdtest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/snapshot"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Options configures a cluster.
type Options struct {
	Members int    // 1 (default) or more; 3 is the usual cluster
	Dir     string // data directories go under it; required
	// NoFsync disables fsync (etcd's --unsafe-no-fsync): for runs that
	// want to see the CPU cost without the disk. Off by default.
	NoFsync bool
	// QuotaBytes is the backend quota; 0 means 8 GiB, enough for the demos.
	QuotaBytes int64
	// TLS, if set, serves clients over https with these files, requiring
	// a client certificate signed by TLS.CA.
	TLS *TLSFiles
}

// Cluster is a running etcd cluster on 127.0.0.1.
type Cluster struct {
	Endpoints []string // client URLs, http://127.0.0.1:port (https with TLS)
	members   []*embed.Etcd
	configs   []*embed.Config
	tls       *TLSFiles
}

// freePorts returns n distinct free TCP ports on 127.0.0.1. embed cannot
// listen on port 0 for peers, so ports are picked and released; another
// process could take one in between, in which case Start fails and can be
// retried.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Start starts a cluster and waits until every member is ready.
func Start(o Options) (*Cluster, error) {
	var lastErr error
	for range 3 { // a picked port may be taken by someone else meanwhile
		c, err := start(o)
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func start(o Options) (*Cluster, error) {
	if o.Members <= 0 {
		o.Members = 1
	}
	if o.Dir == "" {
		return nil, errors.New("etcdtest: Options.Dir is required")
	}
	if o.QuotaBytes == 0 {
		o.QuotaBytes = 8 << 30
	}
	ports, err := freePorts(2 * o.Members)
	if err != nil {
		return nil, err
	}
	u := func(p int) url.URL { return url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", p)} }
	var initial []string
	for i := range o.Members {
		initial = append(initial, fmt.Sprintf("m%d=%s", i, (&url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[2*i+1])}).String()))
	}
	token := fmt.Sprintf("atrest-%d", time.Now().UnixNano())
	c := &Cluster{tls: o.TLS}
	for i := range o.Members {
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = filepath.Join(o.Dir, cfg.Name)
		cfg.ListenClientUrls = []url.URL{u(ports[2*i])}
		if o.TLS != nil {
			cfg.ListenClientUrls[0].Scheme = "https"
			cfg.ClientTLSInfo = transport.TLSInfo{CertFile: o.TLS.ServerCert, KeyFile: o.TLS.ServerKey, TrustedCAFile: o.TLS.CA, ClientCertAuth: true}
		}
		cfg.AdvertiseClientUrls = cfg.ListenClientUrls
		cfg.ListenPeerUrls = []url.URL{u(ports[2*i+1])}
		cfg.AdvertisePeerUrls = cfg.ListenPeerUrls
		cfg.InitialCluster = strings.Join(initial, ",")
		cfg.InitialClusterToken = token
		cfg.UnsafeNoFsync = o.NoFsync
		cfg.QuotaBackendBytes = o.QuotaBytes
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfg.LogLevel = "error"
		cfg.EnableGRPCGateway = false
		c.Endpoints = append(c.Endpoints, cfg.ListenClientUrls[0].String())
		if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
			return nil, err
		}
		c.configs = append(c.configs, cfg)
	}
	if err := c.startMembers(); err != nil {
		return nil, err
	}
	return c, nil
}

// startMembers starts every configured member and waits until each is
// ready.
func (c *Cluster) startMembers() error {
	type result struct {
		e   *embed.Etcd
		err error
	}
	results := make(chan result, len(c.configs))
	for _, cfg := range c.configs {
		// Members of a multi-member cluster block in StartEtcd until a
		// quorum has started, so they start concurrently.
		go func() {
			e, err := embed.StartEtcd(cfg)
			results <- result{e, err}
		}()
	}
	var errs []error
	for range c.configs {
		r := <-results
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		c.members = append(c.members, r.e)
	}
	if len(errs) > 0 {
		c.Close()
		return fmt.Errorf("etcdtest: starting etcd: %w", errors.Join(errs...))
	}
	for _, e := range c.members {
		select {
		case <-e.Server.ReadyNotify():
		case err := <-e.Err():
			c.Close()
			return fmt.Errorf("etcdtest: etcd failed: %w", err)
		case <-time.After(60 * time.Second):
			c.Close()
			return errors.New("etcdtest: etcd did not become ready within 60s")
		}
	}
	return nil
}

// Restart starts the members again after Close, on the same data
// directories and ports, so a test can take etcd away and bring it back.
func (c *Cluster) Restart() error {
	if len(c.members) > 0 {
		return errors.New("etcdtest: Restart of a running cluster")
	}
	return c.startMembers()
}

// DataDB returns the bbolt file of member i (member/snap/db), which a
// stopped member leaves consistent on disk.
func (c *Cluster) DataDB(i int) string {
	return filepath.Join(c.configs[i].Dir, "member", "snap", "db")
}

// TLSConfig returns a client TLS configuration for a TLS cluster (nil for
// a plain one), with the client certificate.
func (c *Cluster) TLSConfig() (*tls.Config, error) {
	if c.tls == nil {
		return nil, nil
	}
	info := transport.TLSInfo{CertFile: c.tls.ClientCert, KeyFile: c.tls.ClientKey, TrustedCAFile: c.tls.CA}
	return info.ClientConfig()
}

// New starts a cluster for a test or benchmark, in a temporary directory,
// and stops it when the test ends.
func New(tb testing.TB, members int) *Cluster {
	tb.Helper()
	c, err := Start(Options{Members: members, Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

// NewTLS is New for one member that serves TLS and wants client
// certificates, with a fresh PKI (NewTLSFiles) in a temporary directory.
func NewTLS(tb testing.TB) (*Cluster, *TLSFiles) {
	tb.Helper()
	pki, err := NewTLSFiles(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	c, err := Start(Options{Dir: tb.TempDir(), TLS: pki})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c, pki
}

// Client returns a client connected to every member.
func (c *Cluster) Client() (*clientv3.Client, error) {
	tlsCfg, err := c.TLSConfig()
	if err != nil {
		return nil, err
	}
	return clientv3.New(clientv3.Config{
		Endpoints:   c.Endpoints,
		DialTimeout: 10 * time.Second,
		TLS:         tlsCfg,
		Logger:      zap.NewNop(),
		// Values up to the server's 1.5 MiB request limit and pages of them.
		MaxCallRecvMsgSize: 256 << 20,
	})
}

// TestClient is Client for a test: it fails the test on error and closes
// the client when the test ends.
func (c *Cluster) TestClient(tb testing.TB) *clientv3.Client {
	tb.Helper()
	cli, err := c.Client()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cli.Close() })
	return cli
}

// Close stops every member. It is safe to call more than once.
func (c *Cluster) Close() {
	for _, e := range c.members {
		e.Close()
	}
	c.members = nil
}

// DeadAddr returns a loopback host:port that nothing listens on: a port
// the kernel just handed out and took back.
func DeadAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// WaitContext is a helper for a context with a deadline generous enough for a
// loaded CI machine.
func WaitContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// SaveSnapshot writes a snapshot of member i to path the way etcdctl
// snapshot save does (clientv3's snapshot.SaveWithVersion): the bbolt
// database as the Maintenance.Snapshot stream sends it, ending with its
// SHA-256.
func (c *Cluster) SaveSnapshot(ctx context.Context, i int, path string) error {
	tlsCfg, err := c.TLSConfig()
	if err != nil {
		return err
	}
	_, err = snapshot.SaveWithVersion(ctx, zap.NewNop(), clientv3.Config{Endpoints: c.Endpoints[i : i+1], TLS: tlsCfg, DialTimeout: 10 * time.Second}, path)
	return err
}
