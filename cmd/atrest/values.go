package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/atrest-dev/atrest/envelope"
)

// defaultMaxBytes bounds what the value commands read from standard input:
// far above etcd's default request limit (1.5 MiB), far below what would
// exhaust memory.
const defaultMaxBytes = 64 << 20

// valueFlags are the flags shared by encrypt, decrypt and inspect.
type valueFlags struct {
	config   string
	resource string
	etcdKey  string
	maxBytes int64
}

func (v *valueFlags) register(fs *flag.FlagSet, configRequired bool) {
	req := ""
	if configRequired {
		req = " (required)"
	}
	fs.StringVar(&v.config, "config", "", "EncryptionConfiguration `file`, as given to kube-apiserver's --encryption-provider-config"+req)
	fs.StringVar(&v.resource, "resource", "", "`resource` the value belongs to, as resource or resource.group (e.g. secrets, deployments.apps); default: taken from --key")
	fs.StringVar(&v.etcdKey, "key", "", "the value's etcd `key`, e.g. /registry/secrets/default/s1: aesgcm authenticates it, so it must be exact")
	fs.Int64Var(&v.maxBytes, "max-bytes", defaultMaxBytes, "refuse standard input longer than this many `bytes`")
}

// resourceName returns --resource, or the resource in a /registry/<resource>/…
// etcd key, as kube-apiserver lays its keys out.
func (v *valueFlags) resourceName() (string, error) {
	if v.resource != "" {
		return v.resource, nil
	}
	parts := strings.Split(strings.TrimPrefix(v.etcdKey, "/"), "/")
	if len(parts) >= 3 && parts[0] == "registry" && parts[1] != "" {
		return parts[1], nil
	}
	return "", fmt.Errorf("%w: --resource is required (it cannot be taken from --key %q)", errUsage, v.etcdKey)
}

// chain loads the configuration and returns the chain for the resource.
func (v *valueFlags) chain() (*envelope.Chain, error) {
	if v.config == "" {
		return nil, fmt.Errorf("%w: --config is required", errUsage)
	}
	res, err := v.resourceName()
	if err != nil {
		return nil, err
	}
	cfg, err := envelope.LoadConfig(v.config)
	if err != nil {
		return nil, err
	}
	return cfg.For(res)
}

// readInput reads all of r, refusing more than max bytes.
func readInput(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading standard input: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("standard input is longer than --max-bytes=%d", max)
	}
	return data, nil
}

// etcdctlNewline reports whether data looks like an encrypted value that
// `etcdctl get --print-value-only` printed, which adds a newline.
func etcdctlNewline(data []byte) bool {
	return bytes.HasPrefix(data, []byte(envelope.EncryptedPrefix)) && bytes.HasSuffix(data, []byte("\n"))
}

var errNoArgs = errors.New("takes no arguments: the value is read from standard input")

// setupKeyed parses the flags of encrypt and decrypt, which need a
// configuration and the etcd key, and returns the chain, the etcd key and
// standard input.
func setupKeyed(sio stdio, name, usage string, args []string) (ch *envelope.Chain, etcdKey, input []byte, err error) {
	var v valueFlags
	fs := newFlags(sio, name, usage)
	v.register(fs, true)
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, nil, nil, fmt.Errorf("%w: %w", errUsage, errNoArgs)
	}
	if v.etcdKey == "" {
		return nil, nil, nil, fmt.Errorf("%w: --key is required: the etcd key is aesgcm's authenticated data", errUsage)
	}
	if ch, err = v.chain(); err != nil {
		return nil, nil, nil, err
	}
	if input, err = readInput(sio.in, v.maxBytes); err != nil {
		return nil, nil, nil, err
	}
	return ch, []byte(v.etcdKey), input, nil
}
