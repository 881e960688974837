package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"os/user"
	"strconv"
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

// repeated collects the values of a repeated flag.
type repeated []string

func (k *repeated) String() string     { return fmt.Sprint(*k) }
func (k *repeated) Set(v string) error { *k = append(*k, v); return nil }

const kmsPluginUsage = `--listen unix:///path.sock --kek-file FILE [--kek-file PREVIOUS]... [--allow-uid UID]... [--allow-gid GID]...
       | --create --kek-file FILE [--listen ...]

Serves the KMS v2 gRPC API that kube-apiserver's "kms: {apiVersion: v2}"
provider (and atrest) call. The first --kek-file encrypts and is the key ID
Status reports; every one decrypts. A --kek-file after the first that does
not exist is skipped. SIGHUP re-reads the files; SIGINT or SIGTERM stops the
plugin and removes its socket. Key rotation:

  mv kek.key kek-old.key
  atrest kms-plugin --create --kek-file kek.key
  kill -HUP <pid of: atrest kms-plugin --listen ... --kek-file kek.key --kek-file kek-old.key>

Who may connect (whoever connects can have DEKs decrypted): the plugin's own
user, and the users and groups of --allow-uid and --allow-gid; the peer's
credentials are checked on every connection, and refused ones are logged and
closed. The socket is mode 0600, or 0666 with --allow-uid or --allow-gid.
An existing socket path is replaced only when it is a socket of the plugin's
user that refuses connections (its plugin is gone). KEK files must be
regular files (symbolic links are followed) of at most 4 KiB.`

func runKMSPlugin(ctx context.Context, args []string, sio stdio) error {
	flags := newFlags(sio, "kms-plugin", kmsPluginUsage)
	var files, uids, gids repeated
	listen := flags.String("listen", "", "the socket to serve, `ENDPOINT` unix:///absolute/path.sock (a path of at most 107 bytes on Linux)")
	flags.Var(&files, "kek-file", "`FILE` with a KEK: 32 bytes, raw or base64, in a regular file of at most 4 KiB (repeat: the first encrypts, all decrypt)")
	create := flags.Bool("create", false, "create the first --kek-file (32 random bytes, base64, mode 0600) if it does not exist; without --listen, then exit")
	timeout := flags.Duration("timeout", 3*time.Second, "connection timeout of the gRPC server (positive)")
	flags.Var(&uids, "allow-uid", "also let `UID` (a uid or a user name) connect (repeat for more)")
	flags.Var(&gids, "allow-gid", "also let processes whose effective or a supplementary group is `GID` (a gid or a group name) connect (repeat for more)")
	abstract := flags.Bool("allow-abstract", false, "allow --listen unix:///@name, a Linux abstract socket: no file permissions, any local process can connect (the peer check still refuses) or take the name; not recommended")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	switch {
	case flags.NArg() > 0:
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, flags.Args())
	case len(files) == 0:
		return fmt.Errorf("%w: --kek-file is required", errUsage)
	case *abstract && *listen == "":
		return fmt.Errorf("%w: --allow-abstract is for --listen", errUsage)
	case *listen == "" && !*create:
		return fmt.Errorf("%w: --listen is required", errUsage)
	case *timeout <= 0:
		return fmt.Errorf("%w: --timeout must be positive, not %v", errUsage, *timeout)
	}
	log := &lockedWriter{w: sio.err}
	lc := kmsplugin.ListenConfig{AllowAbstract: *abstract, Refused: refusals(log)}
	var err error
	if lc.AllowUIDs, err = lookupIDs(uids, "--allow-uid", func(n string) (string, error) {
		u, err := user.Lookup(n)
		if err != nil {
			return "", err
		}
		return u.Uid, nil
	}); err != nil {
		return err
	}
	if lc.AllowGIDs, err = lookupIDs(gids, "--allow-gid", func(n string) (string, error) {
		g, err := user.LookupGroup(n)
		if err != nil {
			return "", err
		}
		return g.Gid, nil
	}); err != nil {
		return err
	}
	if *listen != "" {
		err := lc.CheckEndpoint(*listen)
		switch {
		case errors.Is(err, kmsplugin.ErrAbstract):
			return fmt.Errorf("%w: --listen: %w (--allow-abstract to use it anyway; prefer a socket file)", errUsage, err)
		case err != nil:
			return fmt.Errorf("%w: --listen: %w", errUsage, err)
		}
	}
	// Every flag is valid: from here on, side effects.
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
	// Signals from now on stop the plugin cleanly, and SIGHUP reloads.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	p, err := kmsplugin.New(kmsplugin.Options{}, files...)
	if err != nil {
		return err
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.printf("kms-plugin: warning: KEK file %s is accessible to other users (mode %04o); chmod 600 it\n", f, fi.Mode().Perm())
		}
	}
	logKEKs(log, p)
	if *abstract {
		log.printf("kms-plugin: WARNING: %s is a Linux abstract socket: it has no file permissions, so any process in this network namespace can connect "+
			"(the plugin refuses those it does not allow) or take the name while the plugin is down and receive the DEKs kube-apiserver sends to Encrypt; "+
			"prefer a socket file in a directory only the plugin and its clients can reach\n", *listen)
	}
	ln, err := lc.Listen(*listen)
	if err != nil {
		return err
	}
	log.printf("kms-plugin: listening on %s (allowed: %s)\n", *listen, allowed(lc))

	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				err := reloadKEKs(p)
				if ctx.Err() != nil {
					return // stopped meanwhile: nothing more to say
				}
				if err != nil {
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
	// A reload in progress is not waited for: it may hang on a file (a
	// network file system that does not answer) and must not hold up the
	// stop; the process exits under it.
	if err != nil {
		return err
	}
	log.printf("kms-plugin: stopped\n")
	return nil
}

// reloadKEKs is Plugin.Reload; tests replace it with one that hangs.
var reloadKEKs = (*kmsplugin.Plugin).Reload

// lookupIDs reads the values of flag as numbers, or else as names that
// lookup resolves to one.
func lookupIDs(vals []string, flag string, lookup func(string) (string, error)) ([]uint32, error) {
	var ids []uint32
	for _, v := range vals {
		s := v
		if _, err := strconv.ParseUint(v, 10, 32); err != nil {
			if s, err = lookup(v); err != nil {
				return nil, fmt.Errorf("%w: %s %q: not a number, and %v", errUsage, flag, v, err)
			}
		}
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: %s %q: id %q is not a number", errUsage, flag, v, s)
		}
		ids = append(ids, uint32(n))
	}
	return ids, nil
}

// allowed describes who may connect under lc.
func allowed(lc kmsplugin.ListenConfig) string {
	s := fmt.Sprintf("uid %d", os.Geteuid())
	for _, u := range lc.AllowUIDs {
		s += fmt.Sprintf(", uid %d", u)
	}
	for _, g := range lc.AllowGIDs {
		s += fmt.Sprintf(", gid %d", g)
	}
	return s
}

// refusals returns the ListenConfig.Refused of the command: a line per
// refused connection, at most 10 a minute (a local user can connect in a
// loop); the lines left out are counted in the next one.
func refusals(log *lockedWriter) func(error) {
	var (
		mu      sync.Mutex
		window  time.Time
		n, left int
	)
	return func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if now := time.Now(); now.Sub(window) > time.Minute {
			window, n = now, 0
		}
		if n == 10 {
			left++
			return
		}
		n++
		more := ""
		if left > 0 {
			more = fmt.Sprintf(" (and %d more refused before it, not logged)", left)
			left = 0
		}
		log.printf("kms-plugin: refused a connection: %v%s\n", err, more)
	}
}

func logKEKs(log *lockedWriter, p *kmsplugin.Plugin) {
	for i, k := range p.Loaded() {
		role := "decrypts"
		if i == 0 {
			role = "encrypts, decrypts"
		}
		log.printf("kms-plugin: KEK %s: key ID %s (%s)\n", k.File, k.KeyID, role)
		if k.Warning != "" {
			log.printf("kms-plugin: warning: KEK %s: %s\n", k.File, k.Warning)
		}
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
