package envelope_test

// Differential tests against kube-apiserver's own loader and transformers
// (k8s.io/apiserver, a test-only dependency).

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/storage/value"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// kubeLoad loads yaml with kube-apiserver's loader.
func kubeLoad(t testing.TB, yaml string) (kubepeer.Transformers, error) {
	t.Helper()
	return kubepeer.Load(t.Context(), t.TempDir(), []byte(yaml))
}

func b64key(n int) string {
	k := make([]byte, n)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// newKeyring returns a fixed set of named keys that configurations draw on
// in different orders, so values written under one order can be read under
// another.
func newKeyring() keyring {
	return keyring{
		"aescbc/c1": b64key(32), "aescbc/c2": b64key(16), "aescbc/c3": b64key(24),
		"aesgcm/g1": b64key(16), "aesgcm/g2": b64key(24), "aesgcm/g3": b64key(32),
		"secretbox/s1": b64key(32), "secretbox/s2": b64key(32),
	}
}

type keyring kubepeer.Keyring

// yaml renders a configuration: providers is a list of provider elements, each
// "identity" or "provider:key1,key2".
func (kr keyring) yaml(kind string, resources []string, providers ...string) string {
	rule := kubepeer.Rule{Resources: resources, Providers: kubepeer.Keyring(kr).Providers(providers...)}
	return kubepeer.Config{Legacy: kind == "legacy", Rules: []kubepeer.Rule{rule}}.YAML()
}

type side struct {
	name string
	enc  func(pt, ad []byte) ([]byte, error)
	dec  func(stored, ad []byte) ([]byte, bool, error)
}

func atrestSide(t testing.TB, yaml, resource string) side {
	t.Helper()
	cfg, err := envelope.ParseConfig([]byte(yaml))
	if err != nil {
		t.Fatalf("atrest ParseConfig: %v\n%s", err, yaml)
	}
	ch, err := cfg.For(resource)
	if err != nil {
		t.Fatal(err)
	}
	return side{"atrest",
		func(pt, ad []byte) ([]byte, error) { return ch.Encrypt(nil, pt, ad) },
		func(s, ad []byte) ([]byte, bool, error) { return ch.Decrypt(nil, s, ad) }}
}

func kubeSide(t testing.TB, yaml, resource string) side {
	t.Helper()
	m, err := kubeLoad(t, yaml)
	if err != nil {
		t.Fatalf("kube LoadEncryptionConfig: %v", err)
	}
	tr := m.For(resource)
	ctx := context.Background()
	return side{"kubernetes",
		func(pt, ad []byte) ([]byte, error) { return tr.TransformToStorage(ctx, pt, value.DefaultContext(ad)) },
		func(s, ad []byte) ([]byte, bool, error) {
			return tr.TransformFromStorage(ctx, bytes.Clone(s), value.DefaultContext(ad))
		}}
}

// TestKubeDifferentialRotation writes values under one configuration with
// each implementation and reads them under others with both, demanding the
// same plaintext, the same stale answer and the same accept/reject.
func TestKubeDifferentialRotation(t *testing.T) {
	kr := newKeyring()
	// Each configuration is an ordering of the same keys; reading a value
	// written under configs[i] with configs[j] exercises rotation and stale.
	configs := [][]string{
		{"aesgcm:g1,g2,g3", "aescbc:c1,c2,c3", "secretbox:s1,s2", "identity"},
		{"aesgcm:g3,g1", "secretbox:s2,s1", "aescbc:c2", "identity"},
		{"aescbc:c3,c1", "aesgcm:g2", "secretbox:s1"},
		{"secretbox:s2", "aescbc:c1,c2", "aesgcm:g1,g2,g3"},
		{"identity", "aesgcm:g2,g3", "secretbox:s1,s2", "aescbc:c1,c2,c3"},
		{"aesgcm:g1"},
		{"identity"},
	}
	sizes := []int{0, 1, 15, 16, 17, 255, 1024, 4097}
	ad := []byte("/registry/secrets/default/s1")
	for wi, wc := range configs {
		for _, kind := range []string{"current", "legacy"} {
			y := kr.yaml(kind, []string{"secrets", "*.apps"}, wc...)
			writers := []side{atrestSide(t, y, "secrets"), kubeSide(t, y, "secrets")}
			for ri, rc := range configs {
				ry := kr.yaml("current", []string{"secrets"}, rc...)
				readers := []side{atrestSide(t, ry, "secrets"), kubeSide(t, ry, "secrets")}
				for _, w := range writers {
					for _, n := range sizes {
						pt := make([]byte, n)
						rand.Read(pt)
						stored, err := w.enc(pt, ad)
						if err != nil {
							t.Fatalf("%s write under config %d: %v", w.name, wi, err)
						}
						got := [2]result{}
						for k, r := range readers {
							p, stale, err := r.dec(stored, ad)
							got[k] = result{ok: err == nil, stale: stale, same: bytes.Equal(p, pt)}
						}
						if got[0] != got[1] {
							t.Fatalf("written by %s under config %d (%s), %d bytes, read under config %d: atrest %+v, kubernetes %+v",
								w.name, wi, kind, n, ri, got[0], got[1])
						}
						if got[0].ok && !got[0].same {
							t.Fatalf("config %d -> %d: wrong plaintext", wi, ri)
						}
					}
				}
			}
		}
	}
}

type result struct{ ok, stale, same bool }

// TestKubeDifferentialSizes covers every provider, key size and payload
// sizes up to 1 MiB in both directions.
func TestKubeDifferentialSizes(t *testing.T) {
	kr := newKeyring()
	sizes := []int{0, 1, 16, 100, 4096, 65536 + 3, 1 << 20}
	for _, p := range []string{"aescbc:c1", "aescbc:c2", "aescbc:c3", "aesgcm:g1", "aesgcm:g2", "aesgcm:g3", "secretbox:s1", "identity"} {
		y := kr.yaml("current", []string{"*.*"}, p)
		sides := []side{atrestSide(t, y, "configmaps"), kubeSide(t, y, "configmaps")}
		ad := []byte("/registry/configmaps/kube-system/c")
		for _, n := range sizes {
			pt := make([]byte, n)
			rand.Read(pt)
			for i, w := range sides {
				r := sides[1-i]
				stored, err := w.enc(pt, ad)
				if err != nil {
					t.Fatal(err)
				}
				got, stale, err := r.dec(stored, ad)
				if err != nil || stale || !bytes.Equal(got, pt) {
					t.Fatalf("%s: %s wrote %d bytes, %s read: stale=%v err=%v", p, w.name, n, r.name, stale, err)
				}
				// Wrong etcd key: aesgcm must refuse in both, the others accept in both.
				_, _, err1 := sides[0].dec(stored, []byte("/registry/configmaps/x/y"))
				_, _, err2 := sides[1].dec(stored, []byte("/registry/configmaps/x/y"))
				if (err1 == nil) != (err2 == nil) || (strings.HasPrefix(p, "aesgcm") == (err1 == nil)) {
					t.Fatalf("%s: moved value: atrest err=%v, kubernetes err=%v", p, err1, err2)
				}
			}
		}
	}
}

// TestKubeDifferentialTamper flips and truncates stored values and demands
// the same accept/reject from both (the peer's panics are recovered and fail
// the test only if atrest disagrees in a way other than refusing).
func TestKubeDifferentialTamper(t *testing.T) {
	kr := newKeyring()
	for _, p := range []string{"aescbc:c1", "aesgcm:g3", "secretbox:s2"} {
		y := kr.yaml("current", []string{"secrets"}, p, "identity")
		a, k := atrestSide(t, y, "secrets"), kubeSide(t, y, "secrets")
		ad := []byte("/registry/secrets/a/b")
		stored, _ := a.enc([]byte("a secret value of some length"), ad)
		var variants [][]byte
		for i := range stored {
			v := bytes.Clone(stored)
			v[i] ^= 0x01
			variants = append(variants, v, stored[:i])
		}
		for _, v := range variants {
			_, as, aerr := a.dec(v, ad)
			ks, kerr, panicked := kubeDecrypt(k, v, ad)
			if panicked {
				if aerr == nil {
					t.Fatalf("%s: peer panicked on %q and atrest accepted it", p, v)
				}
				continue
			}
			if (aerr == nil) != (kerr == nil) || as != ks {
				t.Fatalf("%s: %q: atrest (stale=%v, %v), kubernetes (stale=%v, %v)", p, v, as, aerr, ks, kerr)
			}
		}
	}
}

func kubeDecrypt(k side, v, ad []byte) (stale bool, err error, panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	_, stale, err = k.dec(v, ad)
	return stale, err, false
}

// TestKubeCBCEmptyCiphertextPanics records a finding about the peer: an aescbc
// payload of exactly one block (an IV and nothing else) makes kube-apiserver's
// transformer index out of range. atrest refuses it with ErrTooShort.
func TestKubeCBCEmptyCiphertextPanics(t *testing.T) {
	kr := newKeyring()
	y := kr.yaml("current", []string{"secrets"}, "aescbc:c1")
	a, k := atrestSide(t, y, "secrets"), kubeSide(t, y, "secrets")
	v := append([]byte("k8s:enc:aescbc:v1:c1:"), make([]byte, 16)...)
	if _, _, err := a.dec(v, nil); err == nil {
		t.Fatal("atrest accepted an IV-only payload")
	}
	if _, _, panicked := kubeDecrypt(k, v, nil); !panicked {
		t.Log("the peer no longer panics on an IV-only aescbc payload; update the README finding")
	}
}

// TestKubeLoaderErrorQuotesSecret records a finding about the peer: when one
// provider element names two providers, kube-apiserver's error prints the
// element, key secrets included. atrest's error names the field only.
func TestKubeLoaderErrorQuotesSecret(t *testing.T) {
	secret := b64key(32)
	y := "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n" +
		"  providers: [{identity: {}, aescbc: {keys: [{name: a, secret: " + secret + "}]}}]\n"
	_, aerr := envelope.ParseConfig([]byte(y))
	if aerr == nil || strings.Contains(aerr.Error(), secret) {
		t.Fatalf("atrest: %v", aerr)
	}
	_, kerr := kubeLoad(t, y)
	if kerr == nil {
		t.Fatal("the peer accepted two providers in one element")
	}
	if !strings.Contains(kerr.Error(), secret) {
		t.Log("the peer no longer quotes the key in this error; update the README finding")
	}
}
