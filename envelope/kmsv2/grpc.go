package kmsv2

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
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
	svc, err := dialService(endpoint)
	if err != nil {
		return nil, err
	}
	p := New(name, svc, opts...)
	svc.timeout = p.timeout
	p.conn = svc.conn
	runtime.AddCleanup(p, func(c *grpc.ClientConn) { c.Close() }, svc.conn)
	return p, nil
}

// grpcService is kmsservice.Service over gRPC: kube-apiserver's client
// (k8s.io/kms/apis/v2 KeyManagementService), except that calls fail at once
// when the socket refuses connections instead of waiting for the plugin
// until their timeout, and that such failures match ErrUnavailable.
type grpcService struct {
	conn    *grpc.ClientConn
	client  kmsapi.KeyManagementServiceClient
	timeout time.Duration
}

func dialService(endpoint string) (*grpcService, error) {
	addr, err := util.ParseEndpoint(endpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEndpoint, err)
	}
	conn, err := grpc.NewClient("passthrough:///kms-plugin",
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
	return &grpcService{conn: conn, client: kmsapi.NewKeyManagementServiceClient(conn), timeout: DefaultTimeout}, nil
}

var _ kmsservice.Service = (*grpcService)(nil)

func (g *grpcService) Status(ctx context.Context) (*kmsservice.StatusResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	r, err := g.client.Status(ctx, &kmsapi.StatusRequest{})
	if err != nil {
		return nil, rpcError(err)
	}
	return &kmsservice.StatusResponse{Version: r.Version, Healthz: r.Healthz, KeyID: r.KeyId}, nil
}

func (g *grpcService) Encrypt(ctx context.Context, uid string, plaintext []byte) (*kmsservice.EncryptResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	r, err := g.client.Encrypt(ctx, &kmsapi.EncryptRequest{Plaintext: plaintext, Uid: uid})
	if err != nil {
		return nil, rpcError(err)
	}
	return &kmsservice.EncryptResponse{Ciphertext: r.Ciphertext, KeyID: r.KeyId, Annotations: r.Annotations}, nil
}

func (g *grpcService) Decrypt(ctx context.Context, uid string, req *kmsservice.DecryptRequest) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	r, err := g.client.Decrypt(ctx, &kmsapi.DecryptRequest{
		Ciphertext: req.Ciphertext, Uid: uid, KeyId: req.KeyID, Annotations: req.Annotations,
	})
	if err != nil {
		return nil, rpcError(err)
	}
	return r.Plaintext, nil
}

// rpcError marks the failures that mean the plugin cannot be reached or did
// not answer in time as ErrUnavailable.
func rpcError(err error) error {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}
