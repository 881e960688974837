package store_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atrest-dev/atrest/store"
	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

func TestMain(m *testing.M) {
	etcdtest.SilenceKlog()
	os.Exit(m.Run())
}

func tlsConfig(t *testing.T, info transport.TLSInfo) *tls.Config {
	t.Helper()
	c, err := info.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDialFailsFast: a dead port, a TLS server with a CA the client does
// not trust, a TLS server that wants a client certificate it does not get,
// https against a plaintext port and plaintext against a TLS port all fail
// within the dial timeout (clientv3.New alone returned at once and left
// every request waiting), with a message that names the endpoint.
func TestDialFailsFast(t *testing.T) {
	secure, pki := etcdtest.NewTLS(t)
	plain := etcdtest.New(t, 1)
	plainHost := strings.TrimPrefix(plain.Endpoints[0], "http://")
	secureHost := strings.TrimPrefix(secure.Endpoints[0], "https://")

	// The working cases first, so that the failures are the TLS settings'.
	for _, c := range []store.Config{
		{Endpoints: plain.Endpoints},
		{Endpoints: secure.Endpoints, TLS: tlsConfig(t, transport.TLSInfo{TrustedCAFile: pki.CA, CertFile: pki.ClientCert, KeyFile: pki.ClientKey})},
	} {
		cli, err := store.Dial(context.Background(), c)
		if err != nil {
			t.Fatalf("%v: %v", c.Endpoints, err)
		}
		cli.Close()
	}

	// A port that accepts connections and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()

	const timeout = 2 * time.Second
	for _, c := range []struct {
		name string
		cfg  store.Config
	}{
		{"dead port", store.Config{Endpoints: []string{"http://" + etcdtest.DeadAddr(t)}}},
		{"silent port", store.Config{Endpoints: []string{"http://" + silent.Addr().String()}}},
		{"wrong CA", store.Config{Endpoints: secure.Endpoints, TLS: tlsConfig(t, transport.TLSInfo{TrustedCAFile: pki.OtherCA, CertFile: pki.ClientCert, KeyFile: pki.ClientKey})}},
		{"no client certificate", store.Config{Endpoints: secure.Endpoints, TLS: tlsConfig(t, transport.TLSInfo{TrustedCAFile: pki.CA})}},
		{"https to a plaintext port", store.Config{Endpoints: []string{"https://" + plainHost}, TLS: tlsConfig(t, transport.TLSInfo{TrustedCAFile: pki.CA})}},
		{"http to a TLS port", store.Config{Endpoints: []string{"http://" + secureHost}}},
	} {
		c.cfg.DialTimeout = timeout
		start := time.Now()
		cli, err := store.Dial(context.Background(), c.cfg)
		elapsed := time.Since(start)
		if err == nil {
			cli.Close()
			t.Errorf("%s: Dial succeeded", c.name)
			continue
		}
		t.Logf("%s: failed in %v: %v", c.name, elapsed.Round(time.Millisecond), err)
		if !errors.Is(err, store.ErrDial) || !strings.Contains(err.Error(), c.cfg.Endpoints[0]) {
			t.Errorf("%s: error does not match ErrDial or name the endpoint: %v", c.name, err)
		}
		if elapsed > timeout+5*time.Second {
			t.Errorf("%s: took %v with a dial timeout of %v", c.name, elapsed, timeout)
		}
	}
}

// TestDialLeavesOutDeadEndpoint: with one endpoint dead and one alive, Dial
// warns about the dead one and the client works.
func TestDialLeavesOutDeadEndpoint(t *testing.T) {
	c := etcdtest.New(t, 1)
	dead := "http://" + etcdtest.DeadAddr(t)
	var warned []error
	cli, err := store.Dial(context.Background(), store.Config{Endpoints: []string{dead, c.Endpoints[0]}, DialTimeout: 2 * time.Second,
		Warn: func(err error) { warned = append(warned, err) }})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if len(warned) != 1 || !strings.Contains(warned[0].Error(), dead) {
		t.Fatalf("warnings %v", warned)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, "/registry/secrets/a/b", "v"); err != nil {
		t.Fatal(err)
	}
}

func TestDialRefusesMismatchedTLS(t *testing.T) {
	for _, c := range []store.Config{
		{Endpoints: []string{"https://127.0.0.1:1"}},
		{Endpoints: []string{"http://127.0.0.1:1"}, TLS: &tls.Config{}},
		{Endpoints: []string{"ftp://127.0.0.1:1"}},
		{},
	} {
		if _, err := store.Dial(context.Background(), c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// TestEtcdPagesByBytes: 40 values of 1 MiB with a 4 MiB client receive
// limit. One page of them exceeds the limit ("received message larger than
// max"), which failed every scan and rotation of a cluster with large
// values; Each shrinks the page, retries, and reads every value.
func TestEtcdPagesByBytes(t *testing.T) {
	c := etcdtest.New(t, 1)
	ctx := etcdtest.WaitContext(t)
	put := c.TestClient(t)
	const n, size = 40, 1 << 20
	for i := range n {
		v := bytes.Repeat([]byte{byte(i)}, size)
		if _, err := put.Put(ctx, fmt.Sprintf("/registry/secrets/ns/big-%02d", i), string(v)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 { // small values after the large ones
		if _, err := put.Put(ctx, fmt.Sprintf("/registry/secrets/ns/small-%02d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	cli, err := store.Dial(ctx, store.Config{Endpoints: c.Endpoints, MaxRecvBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	// The limit is real: one range over everything is refused.
	if _, err := cli.Get(ctx, "/registry/", clientv3.WithPrefix()); !store.TooLarge(err) {
		t.Fatalf("a range over 40 MiB with a 4 MiB limit: %v", err)
	}
	src := &store.Etcd{Client: cli, Name: "test"}
	var got, big int
	if err := src.Each(ctx, "/registry/", func(kv store.KV) error {
		got++
		if len(kv.Value) == size {
			if kv.Value[0] != byte(big) {
				return fmt.Errorf("value %d out of order", big)
			}
			big++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got != n+30 || big != n {
		t.Fatalf("read %d values (%d large), want %d (%d)", got, big, n+30, n)
	}

	// A value larger than the limit by itself gives a clear error.
	if _, err := put.Put(ctx, "/registry/secrets/ns/big-huge", string(bytes.Repeat([]byte{1}, 1400<<10))); err != nil {
		t.Fatal(err)
	}
	tiny, err := store.Dial(ctx, store.Config{Endpoints: c.Endpoints, MaxRecvBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer tiny.Close()
	err = (&store.Etcd{Client: tiny}).Each(ctx, "/registry/secrets/ns/big-huge", func(store.KV) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "larger than the client's receive limit") {
		t.Fatalf("a value above the receive limit: %v", err)
	}
}

// TestEtcdRequestDeadline: when etcd goes away during Each, the next
// request fails within the request timeout instead of waiting forever.
func TestEtcdRequestDeadline(t *testing.T) {
	c := etcdtest.New(t, 1)
	ctx := etcdtest.WaitContext(t)
	cli := c.TestClient(t)
	for i := range 50 {
		if _, err := cli.Put(ctx, fmt.Sprintf("/registry/secrets/ns/s%02d", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	const timeout = 2 * time.Second
	src := &store.Etcd{Client: cli, PageSize: 10, RequestTimeout: timeout}
	var stopped time.Time
	n := 0
	err := src.Each(ctx, "/registry/", func(store.KV) error {
		if n++; n == 5 {
			c.Close()
			stopped = time.Now()
		}
		return nil
	})
	elapsed := time.Since(stopped)
	t.Logf("failed %v after etcd stopped: %v", elapsed.Round(time.Millisecond), err)
	if err == nil || n != 10 {
		t.Fatalf("read %d values, err %v", n, err)
	}
	if elapsed > timeout+5*time.Second {
		t.Fatalf("took %v with a request timeout of %v", elapsed, timeout)
	}
}
