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
// Exit status: 0 on success, 1 on a failure of the operation, 2 on bad usage.
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
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return run(ctx, []string{c.name, "-h"}, sio)
			}
		}
		usage(sio.err)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(sio.err, "atrest: unknown command %q\n\n", args[0])
		usage(sio.err)
		return 2
	}
	err := c.run(ctx, args[1:], sio)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		if err != errUsage {
			fmt.Fprintf(sio.err, "atrest %s: %v\n", c.name, err)
		}
		return 2
	default:
		fmt.Fprintf(sio.err, "atrest %s: %v\n", c.name, err)
		return 1
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
