package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/atrest-dev/atrest/envelope"
)

func init() {
	register(command{
		name:    "encrypt",
		summary: "encrypt standard input as kube-apiserver would store it in etcd",
		run:     runEncrypt,
	})
}

// runEncrypt writes what kube-apiserver would store. It never writes
// plaintext by mistake: for a resource no rule names (or one kube-apiserver
// never encrypts) it refuses unless --allow-plaintext is given, and a
// configured identity write provider is said on stderr.
func runEncrypt(ctx context.Context, args []string, sio stdio) error {
	var allowPlaintext bool
	r, ad, pt, err := setupKeyed(sio, "encrypt", "--config FILE --key /registry/... [--resource R] [--allow-plaintext] < plaintext > stored", args,
		func(fs *flag.FlagSet) {
			fs.BoolVar(&allowPlaintext, "allow-plaintext", false, "write the value in the clear when no rule of the configuration names its resource, as kube-apiserver would")
		})
	if err != nil {
		return err
	}
	defer clear(pt)
	switch w := r.chain.Entries()[0]; {
	case r.noRule && !allowPlaintext:
		return fmt.Errorf("%w to write plaintext: %s; give --allow-plaintext to write it anyway", errRefused, r.why())
	case r.noRule:
		fmt.Fprintf(sio.err, "atrest encrypt: note: written in the clear: %s\n", r.why())
	case w.Provider == envelope.Identity:
		fmt.Fprintf(sio.err, "atrest encrypt: note: written in the clear: the write provider of %s is identity\n", r.res.Name)
	}
	out, err := r.chain.Encrypt(nil, pt, ad)
	if err != nil {
		return err
	}
	_, err = sio.out.Write(out)
	return err
}
