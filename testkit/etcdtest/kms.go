package etcdtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atrest-dev/atrest/kmsplugin"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// KMSFill is what FillKMS wrote: secrets encrypted by kube-apiserver's own
// KMS v2 transformers through a local plugin served on a unix socket, before
// and after a rotation of the plugin's KEK.
type KMSFill struct {
	// Dir is the directory of the plugin's socket and KEK files.
	Dir string
	// Config is the EncryptionConfiguration: secrets go through the KMS v2
	// provider "local" (the plugin's socket), then identity.
	Config string
	Plugin *kmsplugin.Plugin
	Server *kmsplugin.Server
	// OldKeyID is the key ID before the rotation, NewKeyID after it.
	OldKeyID, NewKeyID string
	// Old and New are the etcd keys written under each.
	Old, New []string
	// Values maps every etcd key written to its plaintext.
	Values map[string][]byte
}

// FillKMS starts a local plugin over two KEK files, the first encrypting,
// in a short temporary directory (a unix socket path must fit in 108 bytes;
// t.TempDir's may not), KMSFill.Dir. For each count of before, a
// kube-apiserver loaded anew (one DEK source each) writes that many secrets;
// then the KEK is rotated as documented (a new KEK file encrypts, the old one
// still decrypts, the plugin reloads) and a kube-apiserver loaded after the
// rotation writes after secrets. Values are 300-byte objects. It fails t on
// error; when t ends the plugin stops (Close stops it earlier) and the
// directory goes.
func FillKMS(t testing.TB, ctx context.Context, cli *clientv3.Client, before []int, after int) *KMSFill {
	t.Helper()
	dir, err := os.MkdirTemp("", "kmsf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f, err := fillKMS(ctx, cli, dir, before, after)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func fillKMS(ctx context.Context, cli *clientv3.Client, dir string, before []int, after int) (*KMSFill, error) {
	cur, prev := filepath.Join(dir, "kek"), filepath.Join(dir, "kek-old")
	if _, err := kmsplugin.CreateKEKFile(cur); err != nil {
		return nil, err
	}
	p, err := kmsplugin.New(kmsplugin.Options{}, cur, prev)
	if err != nil {
		return nil, err
	}
	srv, err := kmsplugin.Start("unix://"+filepath.Join(dir, "p.sock"), p)
	if err != nil {
		return nil, err
	}
	c := kubepeer.Config{Rules: []kubepeer.Rule{{Resources: []string{"secrets"},
		Providers: []kubepeer.Provider{kubepeer.KMS("local", srv.Endpoint), kubepeer.Identity}}}}
	f := &KMSFill{Dir: dir, Config: c.YAML(), Plugin: p, Server: srv, OldKeyID: p.Loaded()[0].KeyID, Values: map[string][]byte{}}
	// write has a kube-apiserver loaded now write n secrets named name-i.
	write := func(name string, n int) ([]string, error) {
		w := &Writer{Client: cli, Dir: dir}
		defer w.Close()
		var keys []string
		for i := range n {
			k := fmt.Sprintf("/registry/secrets/kms/%s-%03d", name, i)
			pt := Object(300)
			if err := w.Put(ctx, f.Config, "secrets", k, pt); err != nil {
				return nil, err
			}
			keys = append(keys, k)
			f.Values[k] = pt
		}
		return keys, nil
	}
	fail := func(err error) (*KMSFill, error) {
		srv.Stop()
		return nil, err
	}
	for i, n := range before {
		keys, err := write(fmt.Sprintf("old%d", i), n)
		if err != nil {
			return fail(err)
		}
		f.Old = append(f.Old, keys...)
	}
	if err := os.Rename(cur, prev); err != nil {
		return fail(err)
	}
	if f.NewKeyID, err = kmsplugin.CreateKEKFile(cur); err != nil {
		return fail(err)
	}
	if err := p.Reload(); err != nil {
		return fail(err)
	}
	if f.New, err = write("new", after); err != nil {
		return fail(err)
	}
	return f, nil
}

// Close stops the plugin.
func (f *KMSFill) Close() { f.Server.Stop() }
