package kmsv2

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	kmsapi "k8s.io/kms/apis/v2"
	kmsservice "k8s.io/kms/pkg/service"
	"k8s.io/kms/pkg/util"
)

// ErrEndpoint: the endpoint is not unix:///path (or unix:///@name for a
// Linux abstract socket).
var ErrEndpoint = errors.New("kmsv2: invalid KMS plugin endpoint")

// Dial returns a Provider named name for the KMS v2 plugin listening at
// endpoint, a unix:// URL as in an EncryptionConfiguration. It does not
// connect: the first Seal, Open, Current or Check does, so a configuration
// loads while its plugin is down, and its reads and writes fail with
// ErrUnavailable until the plugin answers. Close the Provider to close the
// connection (an unreachable Provider's connection is closed when it is
// garbage collected).
func Dial(name, endpoint string, opts ...Option) (*Provider, error) {
	addr, err := util.ParseEndpoint(endpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEndpoint, err)
	}
	svc := &grpcService{addr: addr}
	p := New(name, svc, opts...)
	svc.timeout = p.timeout
	p.conn = svc
	runtime.AddCleanup(p, func(s *grpcService) { s.Close() }, svc)
	return p, nil
}

// grpcService is kmsservice.Service over gRPC: kube-apiserver's client
// (k8s.io/kms/apis/v2 KeyManagementService), except that calls fail at once
// when the socket refuses connections instead of waiting for the plugin
// until their timeout (gRPC fail fast), that such failures match
// ErrUnavailable, and that the call after one makes a new connection, so a
// restarted plugin is reached at once rather than after gRPC's reconnection
// backoff (up to two minutes).
type grpcService struct {
	addr    string
	timeout time.Duration

	mu     sync.Mutex // serialises replacing and closing the connection
	cur    atomic.Pointer[grpcConn]
	closed bool
}

type grpcConn struct {
	cc     *grpc.ClientConn
	client kmsapi.KeyManagementServiceClient
	broken atomic.Bool // a call found the plugin unreachable
}

// conn returns the connection to use, replacing a broken one.
func (g *grpcService) conn() (*grpcConn, error) {
	if c := g.cur.Load(); c != nil && !c.broken.Load() {
		return c, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, ErrClosed
	}
	old := g.cur.Load()
	if old != nil && !old.broken.Load() {
		return old, nil
	}
	// A socket nobody listens on fails here, before a gRPC channel (and
	// its goroutines) is made for it.
	probe, err := net.DialTimeout("unix", g.addr, g.timeout)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	probe.Close()
	addr := g.addr // the connection's goroutines must not keep g alive
	cc, err := grpc.NewClient("passthrough:///kms-plugin",
		grpc.WithAuthority("localhost"),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", addr)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEndpoint, err)
	}
	c := &grpcConn{cc: cc, client: kmsapi.NewKeyManagementServiceClient(cc)}
	g.cur.Store(c)
	if old != nil {
		old.cc.Close()
	}
	return c, nil
}

// Close closes the connection; later calls fail with ErrClosed.
func (g *grpcService) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	if c := g.cur.Load(); c != nil {
		return c.cc.Close()
	}
	return nil
}

var _ kmsservice.Service = (*grpcService)(nil)

func (g *grpcService) Status(ctx context.Context) (*kmsservice.StatusResponse, error) {
	c, err := g.conn()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	r, err := c.client.Status(ctx, &kmsapi.StatusRequest{})
	if err != nil {
		return nil, c.failed(err)
	}
	return &kmsservice.StatusResponse{Version: r.Version, Healthz: r.Healthz, KeyID: r.KeyId}, nil
}

func (g *grpcService) Encrypt(ctx context.Context, uid string, plaintext []byte) (*kmsservice.EncryptResponse, error) {
	c, err := g.conn()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	r, err := c.client.Encrypt(ctx, &kmsapi.EncryptRequest{Plaintext: plaintext, Uid: uid})
	if err != nil {
		return nil, c.failed(err)
	}
	return &kmsservice.EncryptResponse{Ciphertext: r.Ciphertext, KeyID: r.KeyId, Annotations: r.Annotations}, nil
}

func (g *grpcService) Decrypt(ctx context.Context, uid string, req *kmsservice.DecryptRequest) ([]byte, error) {
	c, err := g.conn()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	r, err := c.client.Decrypt(ctx, &kmsapi.DecryptRequest{
		Ciphertext: req.Ciphertext, Uid: uid, KeyId: req.KeyID, Annotations: req.Annotations,
	})
	if err != nil {
		return nil, c.failed(err)
	}
	return r.Plaintext, nil
}

// failed marks the failures that mean the plugin cannot be reached or did
// not answer in time as ErrUnavailable; after an unreachable plugin the
// next call reconnects.
func (c *grpcConn) failed(err error) error {
	switch status.Code(err) {
	case codes.Unavailable:
		c.broken.Store(true)
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case codes.DeadlineExceeded, codes.Canceled:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}
