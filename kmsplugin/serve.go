package kmsplugin

import (
	"context"
	"crypto/rand"
	"net"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc"
	kmsapi "k8s.io/kms/apis/v2"
	kmsservice "k8s.io/kms/pkg/service"
)

var randRead = rand.Read

// maxRequest bounds the size of a request the server reads. The largest
// that kube-apiserver sends is a Decrypt of an encrypted DEK source (at most
// 1 KiB) with its key ID (1 KiB) and annotations (32 KiB).
const maxRequest = 64 << 10

// Serve serves svc as a KMS v2 plugin on ln (from Listen) with
// k8s.io/kms/pkg/service's gRPC service until ctx is done, then stops:
// calls in progress may finish for up to grace, the listener is closed and
// its socket file removed. It returns nil after a stop through ctx.
//
// A listener that is not from Listen gets the peer check of the zero
// ListenConfig (the plugin's own user only). Requests larger than 64 KiB
// are refused; timeout bounds each connection's handshake.
func Serve(ctx context.Context, ln net.Listener, svc kmsservice.Service, timeout, grace time.Duration) error {
	if _, ok := ln.(*checkedListener); !ok {
		var c ListenConfig
		ln = c.wrap(ln, uint32(os.Geteuid()))
	}
	gs := grpc.NewServer(grpc.ConnectionTimeout(timeout), grpc.MaxRecvMsgSize(maxRequest))
	// The service translates between the gRPC messages and svc; its own
	// ListenAndServe is not used because Shutdown cannot reach a server it
	// has not created yet, and because Listen deals with stale sockets.
	kmsapi.RegisterKeyManagementServiceServer(gs, kmsservice.NewGRPCService("", timeout, svc))
	served, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
		case <-served:
			return
		}
		done := make(chan struct{})
		go func() { gs.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(grace):
			gs.Stop()
			<-done
		}
	}()
	err := gs.Serve(ln)
	close(served)
	<-stopped
	if ctx.Err() != nil {
		return nil
	}
	gs.Stop()
	return err
}

// Server is a plugin served in the background on a unix socket, for tests,
// demos and programs that embed the plugin.
type Server struct {
	Endpoint string // the socket, unix:///path

	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// Start opens endpoint with Listen and serves svc on it with Serve in a new
// goroutine until Stop.
func Start(endpoint string, svc kmsservice.Service) (*Server, error) {
	ln, err := Listen(endpoint)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Endpoint: endpoint, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- Serve(ctx, ln, svc, 5*time.Second, time.Second) }()
	return s, nil
}

// Stop stops the server and waits until it has stopped (calls in progress
// get a second) and removed its socket. It returns what Serve returned; a
// second Stop returns the same.
func (s *Server) Stop() error {
	s.once.Do(func() {
		s.cancel()
		s.err = <-s.done
	})
	return s.err
}
