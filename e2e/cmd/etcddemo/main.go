// Command etcddemo starts an embedded etcd on loopback, fills it with
// Kubernetes-shaped values written by kube-apiserver's own transformers
// under a history of encryption configurations, writes the configuration
// the cluster runs now, saves a snapshot, and serves until interrupted, so
// that atrest scan and atrest rotate can be shown on it (make demo-scan).
//
//	go run ./e2e/cmd/etcddemo -n 100000 -dir /tmp/demo
//
// It writes into -dir: enc.yaml (the current EncryptionConfiguration),
// endpoints (the client URL, written once the fill is done), snapshot.db
// (an etcd snapshot of the filled cluster) and the etcd data.
//
// The fill, by share of -n: secrets 60% (of which 40% under the current
// write key aesgcm/k2, 35% under the previous key aesgcm/k1, 15% under the
// retired aescbc/c1, 9% plaintext written before encryption was turned on,
// 1% under a key no longer in the configuration), configmaps 30% (half
// secretbox/s1, half plaintext), deployments and pods 10% (as configured:
// plaintext).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/client/v3/snapshot"
	"go.uber.org/zap"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

func main() {
	n := flag.Int("n", 100000, "values to write")
	dir := flag.String("dir", "", "directory for the etcd data, enc.yaml, endpoints and snapshot.db (required)")
	members := flag.Int("members", 1, "etcd members")
	workers := flag.Int("workers", 32, "concurrent writers")
	serve := flag.Bool("serve", true, "keep etcd running until interrupted")
	flag.Parse()
	if *dir == "" {
		log.Fatal("etcddemo: -dir is required")
	}
	etcdtest.SilenceKlog()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *n, *dir, *members, *workers, *serve); err != nil {
		log.Fatal("etcddemo: ", err)
	}
}

type class struct {
	share              float64
	resource, etcdPath string
	yaml               string
	size               int
}

func run(ctx context.Context, n int, dir string, members, workers int, serve bool) error {
	c, err := etcdtest.Start(etcdtest.Options{Members: members, Dir: filepath.Join(dir, "etcd")})
	if err != nil {
		return err
	}
	defer c.Close()
	cli, err := c.Client()
	if err != nil {
		return err
	}
	defer cli.Close()

	kr := etcdtest.NewKeyring("aesgcm/k1", "aesgcm/k2", "aescbc/c1", "secretbox/s1", "aesgcm/k0")
	cms := etcdtest.Rule{Resources: []string{"configmaps"}, Providers: []string{"secretbox:s1", "identity"}}
	current := kr.Config(etcdtest.Rule{Resources: []string{"secrets"}, Providers: []string{"aesgcm:k2,k1", "aescbc:c1", "identity"}}, cms)
	secrets := func(p string) string {
		return kr.Config(etcdtest.Rule{Resources: []string{"secrets"}, Providers: []string{p}}, cms)
	}
	plain := kr.Config(etcdtest.Rule{Resources: []string{"secrets", "configmaps"}, Providers: []string{"identity"}})
	classes := []class{
		{0.60 * 0.40, "secrets", "secrets/ns-%d/fresh-%d", current, 1200},
		{0.60 * 0.35, "secrets", "secrets/ns-%d/prev-%d", secrets("aesgcm:k1"), 1200},
		{0.60 * 0.15, "secrets", "secrets/ns-%d/cbc-%d", secrets("aescbc:c1"), 2500},
		{0.60 * 0.09, "secrets", "secrets/ns-%d/plain-%d", plain, 900},
		{0.60 * 0.01, "secrets", "secrets/ns-%d/lost-%d", secrets("aesgcm:k0"), 900},
		{0.30 * 0.50, "configmaps", "configmaps/ns-%d/cm-%d", current, 4000},
		{0.30 * 0.50, "configmaps", "configmaps/ns-%d/old-%d", plain, 4000},
		{0.05, "deployments.apps", "deployments/ns-%d/d-%d", current, 3000},
		{0.05, "pods", "pods/ns-%d/p-%d", current, 3000},
	}
	w := &etcdtest.Writer{Client: cli, Dir: dir}
	defer w.Close()
	type job struct {
		c   *class
		key string
	}
	jobs := make(chan job, workers)
	var done atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				if err := w.Put(ctx, j.c.yaml, j.c.resource, j.key, etcdtest.Object(j.c.size)); err != nil {
					once.Do(func() { firstErr = err })
				}
				if d := done.Add(1); d%10000 == 0 {
					fmt.Fprintf(os.Stderr, "etcddemo: %d values written (%.0fs)\n", d, time.Since(start).Seconds())
				}
			}
		})
	}
	written := 0
	for ci := range classes {
		cl := &classes[ci]
		m := int(cl.share*float64(n) + 0.5)
		if ci == len(classes)-1 {
			m = n - written
		}
		for i := range m {
			jobs <- job{cl, "/registry/" + fmt.Sprintf(cl.etcdPath, i%50, i)}
		}
		written += m
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Fprintf(os.Stderr, "etcddemo: %d values written in %.1fs\n", written, time.Since(start).Seconds())
	if err := os.WriteFile(filepath.Join(dir, "enc.yaml"), []byte(current), 0o600); err != nil {
		return err
	}
	if _, err := snapshot.SaveWithVersion(ctx, zap.NewNop(), clientv3.Config{Endpoints: c.Endpoints[:1]}, filepath.Join(dir, "snapshot.db")); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "endpoints"), []byte(c.Endpoints[0]), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "etcddemo: serving %v; config %s; snapshot %s\n", c.Endpoints, filepath.Join(dir, "enc.yaml"), filepath.Join(dir, "snapshot.db"))
	if serve {
		<-ctx.Done()
	}
	return nil
}
