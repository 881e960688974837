package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/scan"
	"github.com/atrest-dev/atrest/store"
)

func init() {
	register(command{
		name:    "scan",
		summary: "audit the values in etcd or a snapshot against an EncryptionConfiguration (read-only)",
		run:     runScan,
	})
}

// etcdFlags are the connection flags of scan and rotate, named as etcdctl
// names them. --key is the TLS client key here, as in etcdctl; these
// commands take no etcd-key argument, so the name is unambiguous.
type etcdFlags struct {
	endpoints, cacert, cert, key string
	timeout                      time.Duration
}

// storeFlags are the flags scan and rotate share: the connection, the
// configuration, which keys to read and how to report.
type storeFlags struct {
	etcdFlags
	config, prefix, etcdPrefix string
	json, quiet                bool
}

// register adds the flags to fs; verb ("scan", "rotate") goes in the help.
func (s *storeFlags) register(fs *flag.FlagSet, verb string) {
	s.etcdFlags.register(fs)
	fs.StringVar(&s.config, "config", "", "the EncryptionConfiguration kube-apiserver runs with (required)")
	fs.StringVar(&s.prefix, "prefix", "/registry/", "etcd key prefix to "+verb)
	fs.StringVar(&s.etcdPrefix, "etcd-prefix", "/registry", "kube-apiserver's --etcd-prefix, from which resources are derived")
	fs.BoolVar(&s.json, "json", false, "write the result as JSON")
	fs.BoolVar(&s.quiet, "quiet", false, "no progress on stderr")
}

// check refuses arguments after the flags and a missing --config.
func (s *storeFlags) check(fs *flag.FlagSet) error {
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	case s.config == "":
		return fmt.Errorf("%w: --config is required", errUsage)
	}
	return nil
}

func (e *etcdFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&e.endpoints, "endpoints", "", "comma-separated etcd client URLs, e.g. https://127.0.0.1:2379")
	fs.StringVar(&e.cacert, "cacert", "", "TLS: CA bundle to verify the etcd servers (as etcdctl --cacert)")
	fs.StringVar(&e.cert, "cert", "", "TLS: client certificate (as etcdctl --cert)")
	fs.StringVar(&e.key, "key", "", "TLS: client private key file (as etcdctl --key; not an etcd key)")
	fs.DurationVar(&e.timeout, "dial-timeout", 10*time.Second, "time to wait for the connection")
}

func (e *etcdFlags) client() (*clientv3.Client, error) {
	var tlsCfg *tls.Config
	if e.cacert != "" || e.cert != "" || e.key != "" {
		if (e.cert == "") != (e.key == "") {
			return nil, fmt.Errorf("%w: --cert and --key go together", errUsage)
		}
		info := transport.TLSInfo{CertFile: e.cert, KeyFile: e.key, TrustedCAFile: e.cacert}
		var err error
		if tlsCfg, err = info.ClientConfig(); err != nil {
			return nil, fmt.Errorf("TLS configuration: %w", err)
		}
	}
	return clientv3.New(clientv3.Config{
		Endpoints:          strings.Split(e.endpoints, ","),
		DialTimeout:        e.timeout,
		TLS:                tlsCfg,
		Logger:             zap.NewNop(),
		MaxCallRecvMsgSize: 256 << 20,
	})
}

func runScan(ctx context.Context, args []string, sio stdio) error {
	fs := newFlags(sio, "scan", "--config FILE (--endpoints URLS | --snapshot FILE) [flags]")
	var sf storeFlags
	sf.register(fs, "scan")
	snapshot := fs.String("snapshot", "", "read an etcd snapshot file (etcdctl snapshot save) instead of a live etcd")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := sf.check(fs); err != nil {
		return err
	}
	if (sf.endpoints == "") == (*snapshot == "") {
		return fmt.Errorf("%w: give exactly one of --endpoints and --snapshot", errUsage)
	}
	cfg, err := envelope.LoadConfig(sf.config)
	if err != nil {
		return err
	}
	var src store.Source
	if *snapshot != "" {
		src = &store.Snapshot{Path: *snapshot}
	} else {
		cli, err := sf.client()
		if err != nil {
			return err
		}
		defer cli.Close()
		src = &store.Etcd{Client: cli, Name: sf.endpoints}
	}
	start := time.Now()
	opts := scan.Options{Prefix: sf.prefix, EtcdPrefix: sf.etcdPrefix}
	if !sf.quiet {
		opts.Progress = func(n int) {
			fmt.Fprintf(sio.err, "scan: %d values read (%.1fs)\n", n, time.Since(start).Seconds())
		}
	}
	rep, err := scan.Scan(ctx, src, cfg, opts)
	if err != nil {
		return err
	}
	if sf.json {
		return rep.WriteJSON(sio.out)
	}
	return rep.WriteText(sio.out)
}
