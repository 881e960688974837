package kubepeer_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/storage/value"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/kmsplugin"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

func TestMain(m *testing.M) {
	kubepeer.SilenceKlog()
	kubepeer.SilenceKlog() // a second call does nothing
	m.Run()
}

var key16 = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))

// The rendering is pinned byte for byte: the fuzz seed corpora hold it.
func TestYAML(t *testing.T) {
	c := kubepeer.Config{Rules: []kubepeer.Rule{
		{Resources: []string{"secrets", "*.apps"}, Providers: []kubepeer.Provider{
			{Kind: envelope.AESGCM, Keys: []kubepeer.Key{{"k1", key16}, {"a:b", "c2VjcmV0"}}},
			{Kind: envelope.KMSv2, Name: "plugin"},
			kubepeer.Identity,
		}},
		{Resources: []string{"*.*"}, Providers: []kubepeer.Provider{kubepeer.Identity}},
	}}
	want := `kind: EncryptionConfiguration
apiVersion: apiserver.config.k8s.io/v1
resources:
- resources: ['secrets', '*.apps']
  providers:
  - aesgcm:
      keys:
      - name: "k1"
        secret: MDEyMzQ1Njc4OWFiY2RlZg==
      - name: "a:b"
        secret: c2VjcmV0
  - kms:
      apiVersion: v2
      name: "plugin"
      endpoint: unix:///run/plugin.sock
  - identity: {}
- resources: ['*.*']
  providers:
  - identity: {}
`
	if got := c.YAML(); got != want {
		t.Errorf("YAML:\n%s\nwant:\n%s", got, want)
	}
	c.Legacy = true
	if got := c.YAML(); !strings.HasPrefix(got, "kind: EncryptionConfig\napiVersion: v1\nresources:\n") {
		t.Errorf("legacy YAML:\n%s", got)
	}
}

func TestKeyringProviders(t *testing.T) {
	kr := kubepeer.Keyring{"aescbc/c1": "x", "aescbc/c2": "y", "secretbox/s1": "z"}
	got := kr.Providers("aescbc:c2,c1", "identity", "secretbox:s1,s9")
	want := []kubepeer.Provider{
		{Kind: envelope.AESCBC, Keys: []kubepeer.Key{{"c2", "y"}, {"c1", "x"}}},
		kubepeer.Identity,
		{Kind: envelope.Secretbox, Keys: []kubepeer.Key{{"s1", "z"}, {"s9", ""}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Providers = %+v, want %+v", got, want)
	}
}

// Load returns kube-apiserver's transformers per resource: the configured
// rule writes with its first key, other resources are stored in the clear.
func TestLoad(t *testing.T) {
	kr := kubepeer.Keyring{"aesgcm/k1": key16}
	c := kubepeer.Config{Rules: []kubepeer.Rule{{Resources: []string{"secrets"}, Providers: kr.Providers("aesgcm:k1")}}}
	dir := t.TempDir()
	m, err := kubepeer.Load(t.Context(), dir, []byte(c.YAML()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, ad := context.Background(), value.DefaultContext("/registry/secrets/a/b")
	pt := []byte("value")
	stored, err := m.For("secrets").TransformToStorage(ctx, pt, ad)
	if err != nil || !bytes.HasPrefix(stored, []byte("k8s:enc:aesgcm:v1:k1:")) {
		t.Fatalf("secrets: %q, %v", stored, err)
	}
	if got, stale, err := m.For("secrets").TransformFromStorage(ctx, stored, ad); err != nil || stale || !bytes.Equal(got, pt) {
		t.Fatalf("read back: %q, %v, %v", got, stale, err)
	}
	if plain, err := m.For("configmaps").TransformToStorage(ctx, pt, ad); err != nil || !bytes.Equal(plain, pt) {
		t.Fatalf("configmaps: %q, %v", plain, err)
	}
	// A second Load in the same directory replaces the file.
	bad := kubepeer.Config{Rules: []kubepeer.Rule{{Resources: []string{"secrets"}, Providers: kr.Providers("aesgcm:k2")}}}
	if _, err := kubepeer.Load(t.Context(), dir, []byte(bad.YAML())); err == nil {
		t.Error("the peer accepted a key without a secret")
	}
}

// A KMS v2 provider with an endpoint and a timeout: both loaders accept the
// rendering, and values written through the plugin by either read in the
// other.
func TestLoadKMS(t *testing.T) {
	c := kubepeer.Config{Rules: []kubepeer.Rule{{Resources: []string{"secrets"}, Providers: []kubepeer.Provider{
		{Kind: envelope.KMSv2, Name: "local", Endpoint: "unix:///tmp/a b.sock", Timeout: 300 * time.Millisecond},
	}}}}
	want := "  - kms:\n      apiVersion: v2\n      name: \"local\"\n      endpoint: \"unix:///tmp/a b.sock\"\n      timeout: 300ms\n"
	if got := c.YAML(); !strings.HasSuffix(got, want) {
		t.Errorf("YAML:\n%s\nwant it to end with:\n%s", got, want)
	}

	dir, err := os.MkdirTemp("", "kp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	p, err := kmsplugin.NewWithKEKs(kmsplugin.Options{}, bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := kmsplugin.Start("unix://"+filepath.Join(dir, "p.sock"), p)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	c = kubepeer.Config{Rules: []kubepeer.Rule{{Resources: []string{"secrets"}, Providers: []kubepeer.Provider{
		kubepeer.KMS("local", srv.Endpoint), kubepeer.Identity,
	}}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := kubepeer.Load(ctx, t.TempDir(), []byte(c.YAML()))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := envelope.ParseConfig([]byte(c.YAML()))
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	ch, _ := cfg.For("secrets")
	key, pt := "/registry/secrets/a/b", []byte("through the plugin")
	kv, err := m.For("secrets").TransformToStorage(ctx, pt, value.DefaultContext(key))
	if err != nil || !bytes.HasPrefix(kv, []byte("k8s:enc:kms:v2:local:")) {
		t.Fatalf("kubernetes wrote %q, %v", kv, err)
	}
	av, err := ch.Encrypt(nil, pt, []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	if got, stale, err := ch.Decrypt(nil, kv, []byte(key)); err != nil || stale || !bytes.Equal(got, pt) {
		t.Errorf("atrest reads kubernetes' value: %q %v %v", got, stale, err)
	}
	if got, stale, err := m.For("secrets").TransformFromStorage(ctx, av, value.DefaultContext(key)); err != nil || stale || !bytes.Equal(got, pt) {
		t.Errorf("kubernetes reads atrest's value: %q %v %v", got, stale, err)
	}
}
