// Package kubepeer sets up kube-apiserver (k8s.io/apiserver) as the peer of
// atrest's differential tests, fuzz targets and benchmarks: it renders an
// EncryptionConfiguration from a small Go description (Config), loads it
// with kube-apiserver's own loader (Load), which returns the transformers a
// real apiserver would use per resource, and silences the peer's klog
// output (SilenceKlog).
//
// It is test support: it imports k8s.io/apiserver, and no package of the
// library imports it.
package kubepeer

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/value"
	"k8s.io/klog/v2"

	"github.com/atrest-dev/atrest/envelope"
)

// Config describes an EncryptionConfiguration.
type Config struct {
	// Legacy writes the legacy kind (kind EncryptionConfig, apiVersion v1)
	// instead of apiserver.config.k8s.io/v1 EncryptionConfiguration.
	Legacy bool
	Rules  []Rule
}

// Rule is one element of the resources list.
type Rule struct {
	Resources []string
	Providers []Provider
}

// Provider is one element of a providers list. Kind is envelope.Identity,
// envelope.AESCBC, envelope.AESGCM, envelope.Secretbox or envelope.KMSv2.
// A KMS v2 provider has Name, the provider name, Endpoint, the plugin's
// unix:// socket (unix:///run/<Name>.sock when empty), and Timeout, each
// call's timeout (the loader's default, 3s, when zero).
type Provider struct {
	Kind     string
	Keys     []Key
	Name     string
	Endpoint string
	Timeout  time.Duration
}

// KMS returns a KMS v2 provider named name for the plugin at endpoint.
func KMS(name, endpoint string) Provider {
	return Provider{Kind: envelope.KMSv2, Name: name, Endpoint: endpoint}
}

// Key is one key of a provider. Secret is written as is: the base64 of the
// key for a valid configuration.
type Key struct {
	Name, Secret string
}

// Identity is the identity provider.
var Identity = Provider{Kind: envelope.Identity}

// YAML renders the configuration as an administrator would write it, names
// quoted.
func (c Config) YAML() string {
	var b strings.Builder
	if c.Legacy {
		b.WriteString("kind: EncryptionConfig\napiVersion: v1\n")
	} else {
		b.WriteString("kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\n")
	}
	b.WriteString("resources:\n")
	for _, r := range c.Rules {
		fmt.Fprintf(&b, "- resources: ['%s']\n  providers:\n", strings.Join(r.Resources, "', '"))
		for _, p := range r.Providers {
			switch p.Kind {
			case envelope.Identity:
				b.WriteString("  - identity: {}\n")
			case envelope.KMSv2:
				fmt.Fprintf(&b, "  - kms:\n      apiVersion: v2\n      name: %q\n", p.Name)
				if p.Endpoint == "" {
					fmt.Fprintf(&b, "      endpoint: unix:///run/%s.sock\n", p.Name)
				} else {
					fmt.Fprintf(&b, "      endpoint: %q\n", p.Endpoint)
				}
				if p.Timeout != 0 {
					fmt.Fprintf(&b, "      timeout: %s\n", p.Timeout)
				}
			default:
				fmt.Fprintf(&b, "  - %s:\n      keys:\n", p.Kind)
				for _, k := range p.Keys {
					fmt.Fprintf(&b, "      - name: %q\n        secret: %s\n", k.Name, k.Secret)
				}
			}
		}
	}
	return b.String()
}

// Keyring holds named keys, "provider/name" -> base64 secret, that
// configurations draw on in different orders, so that values written under
// one configuration can be read under another.
type Keyring map[string]string

// Providers returns a providers list from specs, each "identity" or
// "provider:name1,name2" with the keys of the keyring (a name it does not
// hold gets an empty secret).
func (kr Keyring) Providers(specs ...string) []Provider {
	var out []Provider
	for _, s := range specs {
		if s == envelope.Identity {
			out = append(out, Identity)
			continue
		}
		kind, names, _ := strings.Cut(s, ":")
		p := Provider{Kind: kind}
		for _, n := range strings.Split(names, ",") {
			p.Keys = append(p.Keys, Key{Name: n, Secret: kr[kind+"/"+n]})
		}
		out = append(out, p)
	}
	return out
}

// Transformers are kube-apiserver's transformers per resource, as its loader
// built them.
type Transformers map[schema.GroupResource]value.Transformer

// For returns the transformer kube-apiserver uses for resource, given as
// "resource" or "resource.group" ("secrets", "deployments.apps"): the exact
// rule, then "*.group", then "*.*", then identity.
func (t Transformers) For(resource string) value.Transformer {
	return encryptionconfig.StaticTransformers(t).TransformerForResource(schema.ParseGroupResource(resource))
}

// File is the name Load gives the configuration file in its directory.
const File = "encryption-config.yaml"

// Load loads yaml with kube-apiserver's LoadEncryptionConfig. The loader
// reads only files, so Load first writes yaml to File in dir, replacing
// what a previous Load wrote there. ctx bounds the goroutines the loader
// starts for KMS providers; cancel it when done with the transformers.
func Load(ctx context.Context, dir string, yaml []byte) (Transformers, error) {
	path := filepath.Join(dir, File)
	if err := os.WriteFile(path, yaml, 0o600); err != nil {
		return nil, err
	}
	cfg, err := encryptionconfig.LoadEncryptionConfig(ctx, path, false, "atrest-test")
	if err != nil {
		return nil, err
	}
	return cfg.Transformers, nil
}

var klogOnce sync.Once

// SilenceKlog discards the peer's klog output, which every deliberately
// failed decryption would otherwise print. Calls after the first do
// nothing.
func SilenceKlog() {
	klogOnce.Do(func() {
		fs := flag.NewFlagSet("klog", flag.ContinueOnError)
		klog.InitFlags(fs)
		fs.Set("logtostderr", "false")
		fs.Set("stderrthreshold", "FATAL")
		klog.SetOutput(io.Discard)
		klog.LogToStderr(false)
	})
}
