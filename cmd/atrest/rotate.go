package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/rotate"
)

func init() {
	register(command{
		name:    "rotate",
		summary: "re-encrypt stale values in etcd with the write key (--dry-run or --apply)",
		run:     runRotate,
	})
}

// maxWorkers caps --workers: more only adds memory and etcd load.
const maxWorkers = 256

func runRotate(ctx context.Context, args []string, sio stdio) error {
	fs := newFlags(sio, "rotate", "--config FILE --endpoints URLS (--dry-run | --apply) [flags]")
	var sf storeFlags
	sf.register(fs, "rotate")
	dryRun := fs.Bool("dry-run", false, "count the stale values, write nothing")
	apply := fs.Bool("apply", false, "rewrite the stale values")
	workers := fs.Int("workers", 8, fmt.Sprintf("concurrent rewrites (1 to %d)", maxWorkers))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := sf.check(fs); err != nil {
		return err
	}
	switch {
	case sf.endpoints == "":
		return fmt.Errorf("%w: --endpoints is required (rotation writes to a live etcd)", errUsage)
	case *dryRun == *apply:
		return fmt.Errorf("%w: give exactly one of --dry-run and --apply", errUsage)
	case *workers < 1 || *workers > maxWorkers:
		return fmt.Errorf("%w: --workers must be between 1 and %d", errUsage, maxWorkers)
	}
	cfg, err := envelope.LoadConfig(sf.config)
	if err != nil {
		return err
	}
	defer cfg.Close()
	cli, err := sf.client(ctx, sio)
	if err != nil {
		return err
	}
	defer cli.Close()
	start := time.Now()
	opts := rotate.Options{Prefix: sf.prefix, EtcdPrefix: sf.etcdPrefix, DryRun: *dryRun, Workers: *workers, RequestTimeout: sf.commandTimeout}
	if !sf.quiet {
		opts.Progress = func(s rotate.Summary) {
			fmt.Fprintf(sio.err, "rotate: %d values read, %d stale, %d rewritten (%.1fs)\n", s.Values, s.Stale, s.Rewritten, time.Since(start).Seconds())
		}
	}
	s, err := rotate.Rotate(ctx, cli, cfg, opts)
	if sf.json {
		enc := json.NewEncoder(sio.out)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(s); err == nil {
			err = jerr
		}
		return err
	}
	mode := "apply"
	if *dryRun {
		mode = "dry run"
	}
	done := "in"
	if err != nil {
		done = "before it stopped, in"
	}
	fmt.Fprintf(sio.out, "rotate (%s): %d values read %s %.1fs\n", mode, s.Values, done, time.Since(start).Seconds())
	fmt.Fprintf(sio.out, "  fresh       %8d  already under the write key\n", s.Fresh)
	if *dryRun {
		fmt.Fprintf(sio.out, "  stale       %8d  would be rewritten under the write key\n", s.Stale-s.Unwritable)
	} else {
		fmt.Fprintf(sio.out, "  stale       %8d  found\n", s.Stale)
		fmt.Fprintf(sio.out, "  rewritten   %8d  with compare-and-swap on mod revision\n", s.Rewritten)
		if s.Batched > 0 {
			fmt.Fprintf(sio.out, "  batched     %8d  of them sealed in batches (aescbc SealBatch)\n", s.Batched)
		}
		fmt.Fprintf(sio.out, "  conflicts   %8d  a concurrent write won; the key was re-read\n", s.Conflicts)
		fmt.Fprintf(sio.out, "  gone        %8d  deleted meanwhile\n", s.Gone)
	}
	if s.Unwritable > 0 {
		fmt.Fprintf(sio.out, "  unwritable  %8d  stale, but the write provider's KMS plugin was unreachable: left alone (run again when it is up)\n", s.Unwritable)
	}
	fmt.Fprintf(sio.out, "  unreadable  %8d  no configured key reads them: left alone\n", s.Unreadable)
	if s.Unchecked > 0 {
		fmt.Fprintf(sio.out, "  unchecked   %8d  KMS v2 values whose plugin was unreachable: left alone (run again when it is up)\n", s.Unchecked)
	}
	if s.Unresolved > 0 {
		fmt.Fprintf(sio.out, "  unresolved  %8d  under keys atrest cannot map to a resource: left alone (see atrest scan)\n", s.Unresolved)
	}
	return err
}
