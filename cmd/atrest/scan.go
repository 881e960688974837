package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"

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
	dialTimeout, commandTimeout  time.Duration
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
	fs.StringVar(&s.prefix, "prefix", "", "etcd key `prefix` to "+verb+", under --etcd-prefix (default: --etcd-prefix and /)")
	fs.StringVar(&s.etcdPrefix, "etcd-prefix", store.DefaultEtcdPrefix, "kube-apiserver's --etcd-prefix, from which resources are derived")
	fs.BoolVar(&s.json, "json", false, "write the result as JSON")
	fs.BoolVar(&s.quiet, "quiet", false, "no progress on stderr")
}

// check refuses arguments after the flags, a missing --config and prefixes
// that cannot work, and applies the prefix defaults.
func (s *storeFlags) check(fs *flag.FlagSet) error {
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	case s.config == "":
		return fmt.Errorf("%w: --config is required", errUsage)
	case s.dialTimeout <= 0 || s.commandTimeout <= 0:
		return fmt.Errorf("%w: --dial-timeout and --command-timeout must be positive", errUsage)
	}
	var err error
	if s.etcdPrefix, s.prefix, err = store.Prefixes(s.etcdPrefix, s.prefix); err != nil {
		return fmt.Errorf("%w: --prefix: %w", errUsage, err)
	}
	return nil
}

func (e *etcdFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&e.endpoints, "endpoints", "", "comma-separated etcd client URLs, e.g. https://127.0.0.1:2379")
	fs.StringVar(&e.cacert, "cacert", "", "TLS: CA bundle to verify the etcd servers (as etcdctl --cacert); https endpoints only")
	fs.StringVar(&e.cert, "cert", "", "TLS: client certificate (as etcdctl --cert)")
	fs.StringVar(&e.key, "key", "", "TLS: client private key file (as etcdctl --key; not an etcd key)")
	fs.DurationVar(&e.dialTimeout, "dial-timeout", store.DefaultDialTimeout, "time for every endpoint to connect and answer, or the command fails")
	fs.DurationVar(&e.commandTimeout, "command-timeout", store.DefaultRequestTimeout, "time for each etcd request (a page of reads, one rewrite)")
}

// tlsGiven reports whether any TLS flag is set.
func (e *etcdFlags) tlsGiven() bool { return e.cacert != "" || e.cert != "" || e.key != "" }

// config checks the endpoints against the TLS flags and builds the store
// configuration: TLS flags with http:// endpoints, or http and https mixed,
// are usage errors, not silently ignored.
func (e *etcdFlags) config(sio stdio) (store.Config, error) {
	eps := strings.Split(e.endpoints, ",")
	var https, plain []string
	for _, ep := range eps {
		scheme := ""
		if strings.Contains(ep, "://") {
			u, err := url.Parse(ep)
			if err != nil {
				return store.Config{}, fmt.Errorf("%w: --endpoints: %q is not a URL", errUsage, ep)
			}
			scheme = u.Scheme
		}
		switch {
		case ep == "":
			return store.Config{}, fmt.Errorf("%w: --endpoints: an empty endpoint", errUsage)
		case scheme == "https" || scheme == "unixs":
			https = append(https, ep)
		case scheme == "http" || scheme == "unix":
			plain = append(plain, ep)
		case scheme != "":
			return store.Config{}, fmt.Errorf("%w: --endpoints: %q: scheme must be http or https", errUsage, ep)
		case e.tlsGiven():
			https = append(https, ep) // host:port with TLS flags
		default:
			plain = append(plain, ep)
		}
	}
	switch {
	case len(https) > 0 && len(plain) > 0:
		return store.Config{}, fmt.Errorf("%w: --endpoints mixes https and plain http", errUsage)
	case len(plain) > 0 && e.tlsGiven():
		return store.Config{}, fmt.Errorf("%w: --cacert, --cert and --key need https:// endpoints; %s is plain http", errUsage, plain[0])
	case (e.cert == "") != (e.key == ""):
		return store.Config{}, fmt.Errorf("%w: --cert and --key go together", errUsage)
	}
	cfg := store.Config{
		Endpoints:   eps,
		DialTimeout: e.dialTimeout,
		Warn: func(err error) {
			fmt.Fprintf(sio.err, "atrest: warning: endpoint left out: %v\n", err)
		},
	}
	if len(https) > 0 {
		var tlsCfg *tls.Config
		if e.tlsGiven() {
			if err := checkPEM(e.cacert); err != nil {
				return store.Config{}, fmt.Errorf("TLS configuration for %s: --cacert %s: %w", e.endpoints, e.cacert, err)
			}
			info := transport.TLSInfo{CertFile: e.cert, KeyFile: e.key, TrustedCAFile: e.cacert}
			var err error
			if tlsCfg, err = info.ClientConfig(); err != nil {
				return store.Config{}, fmt.Errorf("TLS configuration for %s: %w", e.endpoints, err)
			}
		} else {
			tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12} // the system's CAs
		}
		cfg.TLS = tlsCfg
	}
	return cfg, nil
}

// checkPEM refuses a CA bundle without a PEM certificate, which the TLS
// loader would take as an empty bundle ("" is no bundle: the system's CAs).
func checkPEM(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 16<<20))
	if err != nil {
		return err
	}
	if !x509.NewCertPool().AppendCertsFromPEM(b) {
		return errors.New("no PEM certificate in the file")
	}
	return nil
}

func (e *etcdFlags) client(ctx context.Context, sio stdio) (*clientv3.Client, error) {
	cfg, err := e.config(sio)
	if err != nil {
		return nil, err
	}
	return store.Dial(ctx, cfg)
}

func runScan(ctx context.Context, args []string, sio stdio) error {
	fs := newFlags(sio, "scan", "--config FILE (--endpoints URLS | --snapshot FILE) [flags]")
	var sf storeFlags
	sf.register(fs, "scan")
	snapshot := fs.String("snapshot", "", "read an etcd snapshot file (etcdctl snapshot save, or a member's db) instead of a live etcd")
	allowUnchecked := fs.Bool("allow-unchecked", false, "exit 0 even when some values could not be checked (their KMS v2 plugin unreachable); without it such a scan exits 5 after its report")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := sf.check(fs); err != nil {
		return err
	}
	switch {
	case (sf.endpoints == "") == (*snapshot == ""):
		return fmt.Errorf("%w: give exactly one of --endpoints and --snapshot", errUsage)
	case *snapshot != "" && sf.tlsGiven():
		return fmt.Errorf("%w: --cacert, --cert and --key are for --endpoints, not --snapshot", errUsage)
	}
	cfg, err := envelope.LoadConfig(sf.config)
	if err != nil {
		return err
	}
	defer cfg.Close()
	var src store.Source
	if *snapshot != "" {
		src = &store.Snapshot{Path: *snapshot}
	} else {
		cli, err := sf.client(ctx, sio)
		if err != nil {
			return err
		}
		defer cli.Close()
		src = &store.Etcd{Client: cli, Name: sf.endpoints, RequestTimeout: sf.commandTimeout}
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
	for _, w := range rep.Warnings {
		fmt.Fprintf(sio.err, "atrest scan: warning: %s\n", w)
	}
	if sf.json {
		err = rep.WriteJSON(sio.out)
	} else {
		err = rep.WriteText(sio.out)
	}
	if err != nil {
		return err
	}
	if n := rep.Totals.Unchecked; n > 0 && !*allowUnchecked {
		return fmt.Errorf("%w: %d of %d values could not be checked (their KMS v2 plugin was unreachable; counted as unchecked in the report): "+
			"the audit is incomplete; scan again with the plugin up, or give --allow-unchecked to accept it", errIncomplete, n, rep.Values)
	}
	return nil
}
