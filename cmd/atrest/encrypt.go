package main

import (
	"context"
)

func init() {
	register(command{
		name:    "encrypt",
		summary: "encrypt standard input as kube-apiserver would store it in etcd",
		run:     runEncrypt,
	})
}

func runEncrypt(ctx context.Context, args []string, sio stdio) error {
	ch, ad, pt, err := setupKeyed(sio, "encrypt", "--config FILE --key /registry/... [--resource R] < plaintext > stored", args)
	if err != nil {
		return err
	}
	out, err := ch.Encrypt(nil, pt, ad)
	clear(pt)
	if err != nil {
		return err
	}
	_, err = sio.out.Write(out)
	return err
}
