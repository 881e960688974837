package main

import (
	"context"
	"fmt"
)

func init() {
	register(command{
		name:    "encrypt",
		summary: "encrypt standard input as kube-apiserver would store it in etcd",
		run:     runEncrypt,
	})
}

func runEncrypt(ctx context.Context, args []string, sio stdio) error {
	var v valueFlags
	fs := newFlags(sio, "encrypt", "--config FILE --key /registry/... [--resource R] < plaintext > stored")
	v.register(fs, true)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %w", errUsage, errNoArgs)
	}
	if v.etcdKey == "" {
		return fmt.Errorf("%w: --key is required: the etcd key is aesgcm's authenticated data", errUsage)
	}
	ch, err := v.chain()
	if err != nil {
		return err
	}
	pt, err := readInput(sio.in, v.maxBytes)
	if err != nil {
		return err
	}
	out, err := ch.Encrypt(nil, pt, []byte(v.etcdKey))
	clear(pt)
	if err != nil {
		return err
	}
	_, err = sio.out.Write(out)
	return err
}
