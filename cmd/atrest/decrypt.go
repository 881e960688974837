package main

import (
	"context"
	"fmt"
)

func init() {
	register(command{
		name:    "decrypt",
		summary: "decrypt a value read from etcd (standard input) with an EncryptionConfiguration",
		run:     runDecrypt,
	})
}

func runDecrypt(ctx context.Context, args []string, sio stdio) error {
	r, ad, stored, err := setupKeyed(sio, "decrypt", "--config FILE --key /registry/... [--resource R] < stored > plaintext", args, nil)
	if err != nil {
		return err
	}
	ch := r.chain
	if r.noRule {
		fmt.Fprintf(sio.err, "atrest decrypt: note: %s\n", r.why())
	}
	pt, stale, err := ch.Decrypt(nil, stored, ad)
	if err != nil && etcdctlNewline(stored) {
		// etcdctl get --print-value-only ends the value with a newline.
		if p, s, err2 := ch.Decrypt(nil, stored[:len(stored)-1], ad); err2 == nil {
			pt, stale, err = p, s, nil
			fmt.Fprintln(sio.err, "atrest decrypt: note: ignored the trailing newline that etcdctl adds")
		}
	}
	if err != nil {
		return err
	}
	if stale {
		fmt.Fprintf(sio.err, "atrest decrypt: note: stale: not written with the chain's write key %s; kube-apiserver rewrites it on its next update\n",
			ch.Entries()[0])
	}
	_, err = sio.out.Write(pt)
	clear(pt)
	return err
}
