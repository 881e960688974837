package etcdtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// Keyring holds named keys, "provider/name" -> base64 secret, that
// configurations draw on in different orders.
type Keyring map[string]string

// NewKeyring makes a fresh random key for each "provider/name"; aesgcm and
// aescbc keys are 32 bytes, as are secretbox keys.
func NewKeyring(names ...string) Keyring {
	kr := Keyring{}
	for _, n := range names {
		kr[n] = RandomKey(32)
	}
	return kr
}

// Rule is one resources entry of a configuration: Providers are
// "identity" or "provider:name1,name2".
type Rule struct {
	Resources []string
	Providers []string
}

// Config renders an EncryptionConfiguration from rules.
func (kr Keyring) Config(rules ...Rule) string {
	var c kubepeer.Config
	for _, r := range rules {
		c.Rules = append(c.Rules, kubepeer.Rule{Resources: r.Resources, Providers: kubepeer.Keyring(kr).Providers(r.Providers...)})
	}
	return c.YAML()
}

// Writer writes values into etcd through kube-apiserver's transformers for
// a given configuration, loading each configuration once.
type Writer struct {
	Client *clientv3.Client
	Dir    string // for the configuration files the loader reads

	mu    sync.Mutex
	kubes map[string]*Kube
}

// Kube returns kube-apiserver's transformers for the configuration yaml.
func (w *Writer) Kube(yaml string) (*Kube, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if k, ok := w.kubes[yaml]; ok {
		return k, nil
	}
	if w.kubes == nil {
		w.kubes = map[string]*Kube{}
	}
	dir, err := os.MkdirTemp(w.Dir, "kube-")
	if err != nil {
		return nil, err
	}
	k, err := LoadKube(yaml, dir)
	if err != nil {
		return nil, err
	}
	w.kubes[yaml] = k
	return k, nil
}

// Put stores plaintext under etcdKey as kube-apiserver configured with yaml
// stores an object of resource.
func (w *Writer) Put(ctx context.Context, yaml, resource, etcdKey string, plaintext []byte) error {
	k, err := w.Kube(yaml)
	if err != nil {
		return err
	}
	v, err := k.Encrypt(ctx, resource, etcdKey, plaintext)
	if err != nil {
		return err
	}
	_, err = w.Client.Put(ctx, etcdKey, string(v))
	return err
}

// Close releases the loaded transformers.
func (w *Writer) Close() {
	for _, k := range w.kubes {
		k.Close()
	}
}

// Mixed is the content FillMixed wrote.
type Mixed struct {
	Keyring Keyring
	// Current is the configuration the cluster runs now:
	//   secrets:    aesgcm k2,k1; aescbc c1; identity
	//   configmaps: secretbox s1; identity
	//   *.apps:     aescbc c1
	Current string
	// Values maps every etcd key written to its plaintext.
	Values map[string][]byte
}

// FillMixed writes a known mix of values, each with kube-apiserver's
// transformers under the configuration in force when it was written:
//
//	secrets (30): 10 fresh aesgcm/k2 (one overwrote a plaintext value, and a
//	  deleted key is gone), 2 more aesgcm/k2 written with one fixed nonce (a
//	  nonce reuse, by atrest's GCM since kube's cannot be made to repeat),
//	  7 stale aesgcm/k1, 5 stale aescbc/c1, 3 plaintext, 2 under aesgcm/k9
//	  (not configured, unreadable) and 1 under an aesgcm key also named k1
//	  but with other key bytes (unreadable)
//	configmaps (10): 6 fresh secretbox/s1, 4 plaintext
//	deployments (3, deployments.apps): 3 fresh aescbc/c1
//	pods (3, not configured): 2 plaintext, 1 aesgcm/k1 (unreadable)
func FillMixed(ctx context.Context, cli *clientv3.Client, dir string) (*Mixed, error) {
	kr := NewKeyring("aesgcm/k1", "aesgcm/k2", "aesgcm/k9", "aescbc/c1", "secretbox/s1")
	other := Keyring{"aesgcm/k1": RandomKey(32)}
	apps := Rule{[]string{"*.apps"}, []string{"aescbc:c1"}}
	cms := Rule{[]string{"configmaps"}, []string{"secretbox:s1", "identity"}}
	current := kr.Config(Rule{[]string{"secrets"}, []string{"aesgcm:k2,k1", "aescbc:c1", "identity"}}, cms, apps)
	withSecrets := func(providers ...string) string {
		return kr.Config(Rule{[]string{"secrets"}, providers}, cms, apps)
	}
	plain := kr.Config(Rule{[]string{"pods"}, []string{"identity"}})
	m := &Mixed{Keyring: kr, Current: current, Values: map[string][]byte{}}
	w := &Writer{Client: cli, Dir: dir}
	defer w.Close()
	put := func(yaml, resource, key string, size int) error {
		pt := Object(size)
		m.Values[key] = pt
		return w.Put(ctx, yaml, resource, key, pt)
	}
	type batch struct {
		yaml, resource, prefix string
		n                      int
	}
	for _, b := range []batch{
		{plain, "secrets", "/registry/secrets/default/fresh-0", 1}, // overwritten below
		{current, "secrets", "/registry/secrets/default/deleted", 1},
		{current, "secrets", "/registry/secrets/default/fresh-", 10},
		{withSecrets("aesgcm:k1"), "secrets", "/registry/secrets/kube-system/old-gcm-", 7},
		{withSecrets("aescbc:c1"), "secrets", "/registry/secrets/kube-system/old-cbc-", 5},
		{withSecrets("identity"), "secrets", "/registry/secrets/default/plain-", 3},
		{withSecrets("aesgcm:k9"), "secrets", "/registry/secrets/default/lost-", 2},
		{other.Config(Rule{[]string{"secrets"}, []string{"aesgcm:k1"}}), "secrets", "/registry/secrets/default/wrongkey-", 1},
		{current, "configmaps", "/registry/configmaps/default/cm-", 6},
		{plain, "configmaps", "/registry/configmaps/default/plain-", 4},
		{current, "deployments.apps", "/registry/deployments/default/d-", 3},
		{plain, "pods", "/registry/pods/default/p-", 2},
		{kr.Config(Rule{[]string{"pods"}, []string{"aesgcm:k1"}}), "pods", "/registry/pods/default/enc-", 1},
	} {
		for i := range b.n {
			key := b.prefix
			if b.n > 1 || strings.HasSuffix(key, "-") {
				key = fmt.Sprintf("%s%d", b.prefix, i)
			}
			if err := put(b.yaml, b.resource, key, 256+i*97); err != nil {
				return nil, fmt.Errorf("writing %s: %w", key, err)
			}
		}
	}
	if _, err := cli.Delete(ctx, "/registry/secrets/default/deleted"); err != nil {
		return nil, err
	}
	delete(m.Values, "/registry/secrets/default/deleted")

	// Two values under aesgcm/k2 with the same nonce.
	key, err := DecodeKey(kr["aesgcm/k2"])
	if err != nil {
		return nil, err
	}
	g, err := aead.NewGCMWithNonces(key, fixedNonce{})
	clear(key)
	if err != nil {
		return nil, err
	}
	ch, err := envelope.NewChain(envelope.Entry{Provider: envelope.AESGCM, Name: "k2", Cipher: g})
	if err != nil {
		return nil, err
	}
	for i := range 2 {
		k := fmt.Sprintf("/registry/secrets/default/reused-%d", i)
		pt := Object(300)
		v, err := ch.Encrypt(nil, pt, []byte(k))
		if err != nil {
			return nil, err
		}
		if _, err := cli.Put(ctx, k, string(v)); err != nil {
			return nil, err
		}
		m.Values[k] = pt
	}
	return m, nil
}

type fixedNonce struct{}

func (fixedNonce) FillNonce(b []byte) error {
	for i := range b {
		b[i] = 0xa5
	}
	return nil
}
