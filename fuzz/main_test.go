package fuzz_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	kmsservice "k8s.io/kms/pkg/service"

	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// scratch is a per-process directory for the configuration files
// kube-apiserver's loader reads; fuzz workers are separate processes and run
// their inputs one at a time, so one file name per process is enough.
var scratch string

// TestMain silences the peer's klog lines (every rejected value would print
// one), replaces the peer's KMS v2 gRPC client with an offline stand-in, and
// makes the scratch directory.
func TestMain(m *testing.M) {
	kubepeer.SilenceKlog()

	// kube-apiserver dials the KMS plugin while loading a configuration. The
	// stand-in loads like a plugin that is down: Status, Encrypt and Decrypt
	// fail, so the configuration is accepted as kube-apiserver accepts it,
	// and every KMS read or write fails, as atrest's ErrUnsupported entries do.
	encryptionconfig.EnvelopeKMSv2ServiceFactory = func(context.Context, string, string, time.Duration) (kmsservice.Service, error) {
		return offlineKMS{}, nil
	}

	dir, err := os.MkdirTemp("", "atrest-fuzz-")
	if err != nil {
		panic(err)
	}
	scratch = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var errOffline = errors.New("fuzz: the KMS plugin is offline")

type offlineKMS struct{}

func (offlineKMS) Decrypt(context.Context, string, *kmsservice.DecryptRequest) ([]byte, error) {
	return nil, errOffline
}

func (offlineKMS) Encrypt(context.Context, string, []byte) (*kmsservice.EncryptResponse, error) {
	return nil, errOffline
}

func (offlineKMS) Status(context.Context) (*kmsservice.StatusResponse, error) {
	return nil, errOffline
}
