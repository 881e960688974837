//go:build unix

package kmsplugin_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	kmsapi "k8s.io/kms/apis/v2"

	"github.com/atrest-dev/atrest/kmsplugin"
)

// grpcClient is a raw KMS v2 gRPC client of the plugin at path: every call
// reaches the plugin (envelope/kmsv2's Provider would cache).
func grpcClient(t *testing.T, path string) (kmsapi.KeyManagementServiceClient, func()) {
	t.Helper()
	cc, err := grpc.NewClient("passthrough:///kms-plugin",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return kmsapi.NewKeyManagementServiceClient(cc), func() { cc.Close() }
}

func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd to count open files")
	}
	return len(fds)
}

// settle waits (up to 10 s) until f() <= want, and returns f().
func settle(want int, f func() int) int {
	for range 200 {
		if n := f(); n <= want {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
	return f()
}

// closedByServer reads c until the server closes it (or 10 s pass, a
// failure): what it reads is discarded.
func closedByServer(c net.Conn) error {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return fmt.Errorf("the server kept the connection open: %w", err)
	}
	return nil
}

// TestHostileClients serves a plugin to clients that send garbage bytes,
// an HTTP/2 preface and then garbage, half a preface and then nothing,
// nothing at all, and requests of 65 KiB to 5 MiB: the server closes the
// first four kinds of connection (those that send nothing within the
// connection timeout), refuses the large requests with ResourceExhausted,
// and serves 20 ordinary clients of 1000 Encrypt and Decrypt calls each all
// along without an error. After the stop, the goroutines and open files are
// those of before.
func TestHostileClients(t *testing.T) {
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)
	path := filepath.Join(socketDir(t), "p.sock")
	ln, err := kmsplugin.Listen("unix://" + path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := kmsplugin.NewWithKEKs(kmsplugin.Options{}, bytes.Repeat([]byte{3}, kmsplugin.KEKSize))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- kmsplugin.Serve(ctx, ln, p, 500*time.Millisecond, time.Second) }()

	dial := func() net.Conn {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	junk := make([]byte, 64<<10)
	rand.Read(junk)
	var hostile []net.Conn
	for range 10 {
		c := dial()
		c.Write(junk) // the server may close before it has read all
		hostile = append(hostile, c)
	}
	for range 5 {
		c := dial()
		c.Write([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
		c.Write(junk)
		hostile = append(hostile, c)
	}
	for range 5 {
		c := dial()
		c.Write([]byte("PRI * HTTP/2.0\r\n"))
		hostile = append(hostile, c)
	}
	for range 50 {
		hostile = append(hostile, dial())
	}

	// Ordinary clients meanwhile, and one with large requests.
	var wg sync.WaitGroup
	errs := make(chan error, 21)
	for i := range 20 {
		wg.Go(func() {
			c, closeFn := grpcClient(t, path)
			defer closeFn()
			for j := range 1000 {
				pt := []byte(fmt.Sprintf("DEK %d/%d", i, j))
				enc, err := c.Encrypt(context.Background(), &kmsapi.EncryptRequest{Plaintext: pt, Uid: "u"})
				if err != nil {
					errs <- fmt.Errorf("client %d, Encrypt %d: %w", i, j, err)
					return
				}
				dec, err := c.Decrypt(context.Background(), &kmsapi.DecryptRequest{Ciphertext: enc.Ciphertext, KeyId: enc.KeyId, Uid: "u"})
				if err != nil || !bytes.Equal(dec.Plaintext, pt) {
					errs <- fmt.Errorf("client %d, Decrypt %d: %q, %w", i, j, dec.GetPlaintext(), err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		c, closeFn := grpcClient(t, path)
		defer closeFn()
		for _, n := range []int{65 << 10, 1 << 20, 5 << 20} {
			_, err := c.Decrypt(context.Background(), &kmsapi.DecryptRequest{Ciphertext: make([]byte, n), KeyId: "k", Uid: "u"})
			if status.Code(err) != codes.ResourceExhausted {
				errs <- fmt.Errorf("a Decrypt of %d bytes: %v, want ResourceExhausted", n, err)
			}
		}
		if _, err := c.Status(context.Background(), &kmsapi.StatusRequest{}); err != nil {
			errs <- fmt.Errorf("Status after the large requests: %w", err)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, c := range hostile {
		if err := closedByServer(c); err != nil {
			t.Errorf("hostile connection %d: %v", i, err)
		}
		c.Close()
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := settle(goroutines, runtime.NumGoroutine); n > goroutines {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after the stop, %d before:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
	}
	if n := settle(fds, func() int { return openFDs(t) }); n > fds {
		t.Errorf("%d open files after the stop, %d before", n, fds)
	}
}
