package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/atrest-dev/atrest/ctcheck"
)

func init() {
	register(command{
		name:    "ctcheck",
		summary: "measure timing leaks of the decrypt paths (dudect-style t-test)",
		run:     runCtcheck,
	})
}

const ctcheckUsage = `[flags]

Times each target on two classes of inputs, interleaved at random, and runs
Welch's t-test between them (dudect-style, cropped at several percentiles).
|t| above 4.5 means the time depends on the input: a leak. Targets are the
Open path of each provider on each implementation this CPU has (impl.List,
generic included), the AES block function and key schedule, and the
provider constructors; -list prints them. The kube-apiserver peer's
figures come from 'go test ./ctcheck -run TestPeer -args -h'.

The table goes to standard output, progress to standard error. Exit status
is 1 if any target leaks. Run on a quiet machine: other load adds noise
(which the crops absorb) but cannot make a constant-time target leak.`

func runCtcheck(ctx context.Context, args []string, sio stdio) error {
	fs := newFlags(sio, "ctcheck", ctcheckUsage)
	targets := fs.String("target", "*", "comma-separated `patterns` (path.Match) over name/impl, e.g. 'cbc-open/*,aes-block/generic'")
	n := fs.Int("n", 100_000, "measurements per class")
	evict := fs.String("evict", "false", "evict caches before each call: false, true or both")
	evictSize := fs.Int("evict-size", 2<<20, "bytes of the buffer walked to evict caches")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	list := fs.Bool("list", false, "list the targets and exit")
	quiet := fs.Bool("q", false, "no progress on standard error")
	seed := fs.Uint64("seed", 0, "seed of the class and input generator (0: random)")
	size := fs.Int("size", ctcheck.DefaultSize, "plaintext `bytes` of the Open targets; another size than the default\nselects only the Open targets, named <name>@<size> (a multiple of 16, at least 32)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *n < 1 {
		return fmt.Errorf("%w: -n must be positive", errUsage)
	}
	modes, err := ctcheck.EvictModes(*evict)
	if err != nil {
		return fmt.Errorf("%w: -evict must be false, true or both", errUsage)
	}
	all := ctcheck.Targets()
	if *size != ctcheck.DefaultSize {
		if *size < 32 || *size%16 != 0 {
			return fmt.Errorf("%w: -size must be a multiple of 16 of at least 32", errUsage)
		}
		all = ctcheck.Sized(*size)
	}
	sel, err := ctcheck.Select(all, *targets)
	switch {
	case errors.Is(err, ctcheck.ErrNoMatch):
		return fmt.Errorf("%w: %v (see -list)", errUsage, err)
	case err != nil:
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *list {
		w := tabwriter.NewWriter(sio.out, 0, 4, 2, ' ', 0)
		for _, t := range sel {
			fmt.Fprintf(w, "%s\t%s\n", t.ID(), t.Classes)
		}
		return w.Flush()
	}
	cfg := ctcheck.Config{N: *n, EvictSize: *evictSize, Seed: *seed}
	if !*quiet {
		cfg.Progress = sio.err
	}
	results, err := ctcheck.RunAll(ctx, sel, modes, cfg)
	if err != nil && ctx.Err() == nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(sio.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else if err := ctcheck.WriteTable(sio.out, results); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	leaks := 0
	for _, r := range results {
		if r.Leak {
			leaks++
		}
	}
	if leaks > 0 {
		return fmt.Errorf("%d of %d runs exceed |t| = %.1f", leaks, len(results), ctcheck.Threshold)
	}
	return nil
}
