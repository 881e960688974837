package store

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Defaults of Config and Etcd.
const (
	DefaultDialTimeout    = 10 * time.Second
	DefaultRequestTimeout = 15 * time.Second
	DefaultMaxRecvBytes   = 256 << 20
	DefaultPageSize       = 1000
	DefaultPageBytes      = 32 << 20
)

// ErrDial is matched by the error Dial returns when no endpoint answered.
var ErrDial = errors.New("store: cannot reach etcd")

// Config says how to reach etcd.
type Config struct {
	// Endpoints are client URLs: http://host:port, https://host:port, or
	// host:port (https if TLS is set).
	Endpoints []string
	// TLS is the client's TLS configuration, required for https endpoints
	// and refused with http ones; nil for plain connections.
	TLS *tls.Config
	// DialTimeout bounds Dial: every endpoint must connect and answer a
	// status request within it. 0 means DefaultDialTimeout.
	DialTimeout time.Duration
	// MaxRecvBytes is the most the client accepts in one response; 0 means
	// DefaultMaxRecvBytes. Etcd.Each shrinks its pages to stay under it.
	MaxRecvBytes int
	// Warn, if set, is told of each endpoint left out because it did not
	// answer while others did.
	Warn func(error)
}

// Dial connects to etcd and checks, within DialTimeout, that the endpoints
// answer: a TCP (and TLS) connection, then a status request, to each in
// parallel. clientv3.New alone connects lazily, so a dead port or a TLS
// mismatch would otherwise only show as requests that wait. Endpoints that
// fail are left out (told to Warn); if none answers, the error matches
// ErrDial and names every endpoint with its reason.
func Dial(ctx context.Context, c Config) (*clientv3.Client, error) {
	if len(c.Endpoints) == 0 {
		return nil, fmt.Errorf("%w: no endpoints", ErrDial)
	}
	for _, ep := range c.Endpoints {
		u, err := endpointURL(ep)
		if err != nil {
			return nil, err
		}
		switch {
		case u.Scheme == "https" && c.TLS == nil:
			return nil, fmt.Errorf("store: endpoint %s is https but no TLS configuration is given", ep)
		case u.Scheme == "http" && c.TLS != nil:
			return nil, fmt.Errorf("store: endpoint %s is plain http but a TLS configuration is given", ep)
		}
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.MaxRecvBytes <= 0 {
		c.MaxRecvBytes = DefaultMaxRecvBytes
	}
	ctx, cancel := context.WithTimeout(ctx, c.DialTimeout)
	defer cancel()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:          c.Endpoints,
		DialTimeout:        c.DialTimeout,
		TLS:                c.TLS,
		Logger:             zap.NewNop(),
		MaxCallRecvMsgSize: c.MaxRecvBytes,
		Context:            context.WithoutCancel(ctx),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDial, err)
	}
	errs := make([]error, len(c.Endpoints))
	var wg sync.WaitGroup
	for i, ep := range c.Endpoints {
		wg.Go(func() { errs[i] = probe(ctx, cli, ep, c.TLS) })
	}
	wg.Wait()
	var good []string
	var bad []error
	for i, ep := range c.Endpoints {
		if errs[i] == nil {
			good = append(good, ep)
		} else {
			bad = append(bad, fmt.Errorf("%s: %w", ep, errs[i]))
		}
	}
	if len(good) == 0 {
		cli.Close()
		return nil, fmt.Errorf("%w within %v: %w", ErrDial, c.DialTimeout, errors.Join(bad...))
	}
	if len(bad) > 0 {
		cli.SetEndpoints(good...)
		if c.Warn != nil {
			for _, e := range bad {
				c.Warn(e)
			}
		}
	}
	return cli, nil
}

func endpointURL(ep string) (*url.URL, error) {
	if !strings.Contains(ep, "://") {
		ep = "//" + ep
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" && u.Scheme != "unix" && u.Scheme != "unixs" {
		return nil, fmt.Errorf("store: endpoint %q is not a client URL such as https://127.0.0.1:2379", ep)
	}
	switch u.Scheme {
	case "", "http", "https", "unix", "unixs":
		return u, nil
	}
	return nil, fmt.Errorf("store: endpoint %q: unsupported scheme %q (http, https, unix, unixs)", ep, u.Scheme)
}

// probe connects to one endpoint (TCP, then TLS if configured), which names
// the reason of most failures exactly, then asks it for its status.
func probe(ctx context.Context, cli *clientv3.Client, ep string, tlsCfg *tls.Config) error {
	u, _ := endpointURL(ep)
	network, addr := "tcp", u.Host
	if u.Scheme == "unix" || u.Scheme == "unixs" {
		network, addr = "unix", u.Host+u.Path
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if tlsCfg != nil {
		cfg := tlsCfg.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		cfg.NextProtos = []string{"h2"} // as gRPC asks
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("TLS handshake: the server closed the connection (is the port plain http://?): %w", err)
			}
			return fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	if err := h2Check(ctx, conn, tlsCfg != nil); err != nil {
		return err
	}
	if _, err := cli.Status(ctx, ep); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("no status answer: %w (last error: %v)", ctx.Err(), err)
		}
		return fmt.Errorf("status: %w", err)
	}
	return nil
}

// h2Check sends the HTTP/2 client preface and an empty SETTINGS frame and
// expects a frame back, as etcd's gRPC port answers. A server that refuses
// the client certificate (TLS 1.3 says so only after the handshake) answers
// with an alert; a TLS port spoken to in plaintext with something else.
func h2Check(ctx context.Context, conn net.Conn, secure bool) error {
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
	if _, err := io.WriteString(conn, preface); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	var hdr [9]byte
	_, err := io.ReadFull(conn, hdr[:])
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("connected, but no answer: %w", err)
	case err != nil && secure:
		return fmt.Errorf("the server did not accept the connection (a client certificate it trusts? --cert, --key): %w", err)
	case err != nil:
		return fmt.Errorf("no HTTP/2 answer (does the port expect TLS, https://?): %w", err)
	case hdr[3] != 0x4: // SETTINGS
		return fmt.Errorf("the answer is not etcd's gRPC (HTTP/2) (does the port expect TLS, https://?)")
	}
	return nil
}

// Etcd reads a live etcd with ranged gets only: it never writes. Pages are
// read at the revision of the first page, so the scan sees one consistent
// state even while the cluster is written to (unless that revision is
// compacted during the scan, which fails it; kube-apiserver compacts every
// five minutes by default).
//
// Pages are bounded by count and by bytes: after each page the next one's
// count is set from the values' mean size to stay near PageBytes, and a
// page the client refuses as larger than its receive limit is read again
// with a quarter of the keys. Every request has a deadline.
type Etcd struct {
	Client    *clientv3.Client
	PageSize  int64 // most keys per range request; 0 means DefaultPageSize
	PageBytes int64 // bytes a page aims at; 0 means DefaultPageBytes
	// RequestTimeout bounds each range request; 0 means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	Name           string // for String, e.g. the endpoints
	// Unpinned reads every page at the latest revision instead: no single
	// consistent state, but no failure on compaction. Rotation uses it, as
	// its compare-and-swap handles every change.
	Unpinned bool

	rev int64 // revision of the last Each, for reports
}

func (e *Etcd) String() string { return "etcd " + e.Name }

// Revision returns the revision the last Each read at.
func (e *Etcd) Revision() int64 { return e.rev }

// TooLarge reports whether err is the client refusing a response above its
// receive limit.
func TooLarge(err error) bool {
	if status.Code(err) == codes.ResourceExhausted {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "received message larger than max")
}

// Each implements Source.
func (e *Etcd) Each(ctx context.Context, prefix string, fn func(KV) error) error {
	maxPage := e.PageSize
	if maxPage <= 0 {
		maxPage = DefaultPageSize
	}
	budget := e.PageBytes
	if budget <= 0 {
		budget = DefaultPageBytes
	}
	timeout := e.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	end := clientv3.GetPrefixRangeEnd(prefix)
	if prefix == "" {
		end = "\x00"
	}
	start := prefix
	e.rev = 0
	page := maxPage
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(page)}
		if e.rev != 0 && !e.Unpinned {
			opts = append(opts, clientv3.WithRev(e.rev))
		}
		rctx, cancel := context.WithTimeout(ctx, timeout)
		r, err := e.Client.Get(rctx, start, opts...)
		cancel()
		if TooLarge(err) {
			if page == 1 {
				return fmt.Errorf("store: reading etcd: the value at or after %q is larger than the client's receive limit: %w", start, err)
			}
			page = max(1, page/4)
			budget = max(1<<20, budget/2)
			continue
		}
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("no answer within %v: %w", timeout, err)
			}
			return fmt.Errorf("store: reading etcd %s at %q: %w", e.Name, start, err)
		}
		if e.rev == 0 || e.Unpinned {
			e.rev = r.Header.Revision
		}
		var bytes int64
		for _, kv := range r.Kvs {
			bytes += int64(len(kv.Key) + len(kv.Value))
			if err := fn(KV{kv.Key, kv.Value, kv.ModRevision}); err != nil {
				return err
			}
		}
		if !r.More || len(r.Kvs) == 0 {
			return nil
		}
		start = string(r.Kvs[len(r.Kvs)-1].Key) + "\x00"
		mean := bytes/int64(len(r.Kvs)) + 1
		page = min(maxPage, max(1, budget/mean))
	}
}
