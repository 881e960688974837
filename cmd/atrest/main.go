// Command atrest reads, writes and audits values encrypted the way
// kube-apiserver encrypts them at rest, and measures the providers.
//
// Usage:
//
//	atrest <command> [flags] [args]
//
// Run "atrest help" for the list of commands and "atrest <command> -h" for
// the flags of one. Values are read from standard input and written to
// standard output, so a value taken from etcd can be checked with
//
//	etcdctl get --print-value-only /registry/secrets/default/s1 |
//	    atrest inspect --config enc.yaml --resource secrets --key /registry/secrets/default/s1
//
// Exit status:
//
//	0  success
//	1  the operation failed (an error, e.g. a value no key reads, etcd
//	   unreachable or gone away, a rotation stopped midway)
//	2  bad usage: unknown command or flag, a malformed or contradictory
//	   flag (--resource that does not match --key, TLS flags with http://
//	   endpoints or with --snapshot, --workers or --max-bytes out of range)
//	3  the snapshot file is corrupt, truncated, not an etcd backend, or
//	   fails etcd's SHA-256 checksum: nothing was reported from it
//	4  refused: encrypt would have written plaintext for a resource no rule
//	   of the configuration names (--allow-plaintext overrides)
//	5  incomplete: scan printed its report, but some values could not be
//	   checked (their KMS v2 plugin was unreachable); --allow-unchecked
//	   exits 0 instead
//
// docs/operating.md says what scan and rotate do under failures and how to
// resume a rotation.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"

	"github.com/atrest-dev/atrest/store"
)

// stdio is what a command reads and writes; tests pass buffers.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one subcommand. Each lives in its own file and registers itself
// from an init function.
type command struct {
	name    string
	summary string // one line, for "atrest help"
	// run executes the command. Returning errUsage (possibly wrapped) exits 2.
	run func(ctx context.Context, args []string, sio stdio) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("atrest: command " + c.name + " registered twice")
	}
	commands[c.name] = c
}

// errUsage marks an error as a usage error (exit status 2). The flag package
// has already printed the details when it is returned for a flag error.
var errUsage = errors.New("usage error")

// errRefused marks a refusal to write plaintext (exit status 4).
var errRefused = errors.New("refused")

// errIncomplete marks an audit that could not check every value (exit
// status 5).
var errIncomplete = errors.New("incomplete")

// Exit statuses; see the package documentation.
const (
	exitOK         = 0
	exitFailure    = 1
	exitUsage      = 2
	exitSnapshot   = 3
	exitRefused    = 4
	exitIncomplete = 5
)

// newFlags returns a FlagSet for a command that prints to sio.err and whose
// usage line names the command.
func newFlags(sio stdio, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(sio.err)
	fs.Usage = func() {
		fmt.Fprintf(sio.err, "usage: atrest %s %s\n\nflags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and maps flag errors to errUsage; -h is not an error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return errUsage
	}
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr})
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, sio stdio) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		switch {
		case len(args) > 2:
			fmt.Fprintf(sio.err, "atrest help: takes at most one command name\n")
			return exitUsage
		case len(args) == 2:
			if c, ok := commands[args[1]]; ok {
				return run(ctx, []string{c.name, "-h"}, sio)
			}
			fmt.Fprintf(sio.err, "atrest help: unknown command %q\n\n", args[1])
			usage(sio.err)
			return exitUsage
		}
		usage(sio.err)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(sio.err, "atrest: unknown command %q\n\n", args[0])
		usage(sio.err)
		return exitUsage
	}
	err := c.run(ctx, args[1:], sio)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		if err != errUsage {
			fmt.Fprintf(sio.err, "atrest %s: %v\n", c.name, err)
		}
		return exitUsage
	case errors.Is(err, store.ErrSnapshot):
		fmt.Fprintf(sio.err, "atrest %s: %v\n", c.name, err)
		return exitSnapshot
	case errors.Is(err, errRefused):
		fmt.Fprintf(sio.err, "atrest %s: %v\n", c.name, err)
		return exitRefused
	case errors.Is(err, errIncomplete):
		fmt.Fprintf(sio.err, "atrest %s: %v\n", c.name, err)
		return exitIncomplete
	default:
		fmt.Fprintf(sio.err, "atrest %s: %v\n", c.name, err)
		return exitFailure
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: atrest <command> [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'atrest <command> -h' for the flags of a command.")
}
