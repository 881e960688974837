package kmsplugin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	kmsapi "k8s.io/kms/apis/v2"
	kmsservice "k8s.io/kms/pkg/service"
	"k8s.io/kms/pkg/util"
)

var randRead = rand.Read

// ErrInUse: another process listens on the socket.
var ErrInUse = errors.New("kmsplugin: another process is listening on the socket")

// Listen opens the unix socket of endpoint (unix:///path, or unix:///@name
// for a Linux abstract socket) for Serve. A socket file left by a process
// that is gone is replaced; one that accepts connections is not (ErrInUse),
// nor is a file that is not a socket. The socket is made mode 0600: only
// its owner (the kube-apiserver's user, typically root) may connect, since
// whoever connects can decrypt DEKs.
func Listen(endpoint string) (net.Listener, error) {
	path, err := util.ParseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	abstract := strings.HasPrefix(path, "@")
	if !abstract {
		if fi, err := os.Lstat(path); err == nil {
			if fi.Mode()&os.ModeSocket == 0 {
				return nil, fmt.Errorf("kmsplugin: %s exists and is not a socket", path)
			}
			if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
				c.Close()
				return nil, fmt.Errorf("%w: %s", ErrInUse, path)
			}
			if err := os.Remove(path); err != nil {
				return nil, err
			}
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if !abstract {
		if err := os.Chmod(path, 0o600); err != nil {
			ln.Close()
			return nil, err
		}
	}
	return ln, nil
}

// Serve serves svc as a KMS v2 plugin on ln (from Listen) with
// k8s.io/kms/pkg/service's gRPC service until ctx is done, then stops:
// calls in progress may finish for up to grace, the listener is closed and
// its socket file removed. It returns nil after a stop through ctx.
func Serve(ctx context.Context, ln net.Listener, svc kmsservice.Service, timeout, grace time.Duration) error {
	gs := grpc.NewServer(grpc.ConnectionTimeout(timeout))
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
