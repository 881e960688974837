package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/atrest-dev/atrest/kmsplugin"
)

func init() {
	register(command{
		name:    "kms-plugin",
		summary: "run a local KMS v2 plugin (AES-256-GCM key wrapping under KEK files) on a unix socket",
		run:     runKMSPlugin,
	})
}

// kekFiles collects repeated --kek-file flags.
type kekFiles []string

func (k *kekFiles) String() string     { return fmt.Sprint(*k) }
func (k *kekFiles) Set(v string) error { *k = append(*k, v); return nil }

const kmsPluginUsage = `--listen unix:///path.sock --kek-file FILE [--kek-file PREVIOUS]... | --create --kek-file FILE [--listen ...]

Serves the KMS v2 gRPC API that kube-apiserver's "kms: {apiVersion: v2}"
provider (and atrest) call. The first --kek-file encrypts and is the key ID
Status reports; every one decrypts. A --kek-file after the first that does
not exist is skipped. SIGHUP re-reads the files; SIGINT or SIGTERM stops the
plugin and removes its socket. Key rotation:

  mv kek.key kek-old.key
  atrest kms-plugin --create --kek-file kek.key
  kill -HUP <pid of: atrest kms-plugin --listen ... --kek-file kek.key --kek-file kek-old.key>`

func runKMSPlugin(ctx context.Context, args []string, sio stdio) error {
	flags := newFlags(sio, "kms-plugin", kmsPluginUsage)
	var files kekFiles
	listen := flags.String("listen", "", "the socket to serve, unix:///path.sock (unix:///@name: a Linux abstract socket)")
	flags.Var(&files, "kek-file", "a KEK file: 32 bytes, raw or base64 (repeat: the first encrypts, all decrypt)")
	create := flags.Bool("create", false, "create the first --kek-file (32 random bytes, base64, mode 0600) if it does not exist; without --listen, then exit")
	timeout := flags.Duration("timeout", 3*time.Second, "connection timeout of the gRPC server")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	switch {
	case flags.NArg() > 0:
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, flags.Args())
	case len(files) == 0:
		return fmt.Errorf("%w: --kek-file is required", errUsage)
	case *listen == "" && !*create:
		return fmt.Errorf("%w: --listen is required", errUsage)
	}
	log := &lockedWriter{w: sio.err}
	if *create {
		switch id, err := kmsplugin.CreateKEKFile(files[0]); {
		case err == nil:
			log.printf("kms-plugin: created KEK file %s (key ID %s)\n", files[0], id)
		case errors.Is(err, fs.ErrExist) && *listen != "":
			// Serve with the KEK that exists.
		default:
			return err
		}
		if *listen == "" {
			return nil
		}
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.printf("kms-plugin: warning: KEK file %s is accessible to other users (mode %04o); chmod 600 it\n", f, fi.Mode().Perm())
		}
	}
	p, err := kmsplugin.New(kmsplugin.Options{}, files...)
	if err != nil {
		return err
	}
	logKEKs(log, p)
	ln, err := kmsplugin.Listen(*listen)
	if err != nil {
		return err
	}
	log.printf("kms-plugin: listening on %s\n", *listen)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := p.Reload(); err != nil {
					log.printf("kms-plugin: reload failed, keeping the KEKs in use: %v\n", err)
					continue
				}
				log.printf("kms-plugin: reloaded\n")
				logKEKs(log, p)
			}
		}
	}()
	err = kmsplugin.Serve(ctx, ln, p, *timeout, 10*time.Second)
	stop()
	wg.Wait()
	if err != nil {
		return err
	}
	log.printf("kms-plugin: stopped\n")
	return nil
}

func logKEKs(log *lockedWriter, p *kmsplugin.Plugin) {
	for i, k := range p.Loaded() {
		role := "decrypts"
		if i == 0 {
			role = "encrypts, decrypts"
		}
		log.printf("kms-plugin: KEK %s: key ID %s (%s)\n", k.File, k.KeyID, role)
	}
}

// lockedWriter serialises the lines of the serving and reloading goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}
