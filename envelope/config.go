package envelope

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/cbc"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Config is a loaded EncryptionConfiguration: a chain per resource rule.
// It holds no key material other than inside the chains' ciphers.
type Config struct {
	rules map[groupResource]*Chain
	order []groupResource // as configured, for Resources
}

type groupResource struct{ group, resource string }

// parseGroupResource splits "resource.group" at the first dot, as
// kube-apiserver's schema.ParseGroupResource does.
func parseGroupResource(s string) groupResource {
	if r, g, ok := strings.Cut(s, "."); ok {
		return groupResource{g, r}
	}
	return groupResource{"", s}
}

func (gr groupResource) String() string {
	switch {
	case gr.group == "" && gr.resource == "*":
		return "*."
	case gr.group == "":
		return gr.resource
	}
	return gr.resource + "." + gr.group
}

var anyGroupAnyResource = groupResource{"*", "*"}

// MaxConfigBytes bounds the configuration file LoadConfig reads;
// kube-apiserver's files are a few KiB.
const MaxConfigBytes = 1 << 20

// LoadConfig reads and parses the EncryptionConfiguration file at path,
// refusing a file longer than MaxConfigBytes. Errors name the file.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading encryption configuration: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigBytes+1))
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("reading encryption configuration: %w", err)
	}
	if len(data) > MaxConfigBytes {
		return nil, &ConfigError{File: path, Fields: []FieldError{{"", fmt.Sprintf("the file is longer than %d bytes", MaxConfigBytes)}}}
	}
	cfg, err := ParseConfig(data)
	if ce, ok := errors.AsType[*ConfigError](err); ok {
		ce.File = path
	}
	return cfg, err
}

// ParseConfig parses an EncryptionConfiguration, in YAML or JSON, in either
// the apiserver.config.k8s.io/v1 EncryptionConfiguration form or the legacy
// v1 EncryptionConfig form, and applies every check kube-apiserver applies
// when loading one. It builds the ciphers, so a nil error means every key is
// usable. A KMS v2 provider becomes a kmsv2.Provider for its plugin, which
// is not contacted until the entry is used (so a configuration loads while
// its plugin is down; its entries then fail with errors matching
// ErrUnsupported); KMS v1 is refused, as kube-apiserver refuses it unless the
// deprecated KMSv1 feature gate is on. Close the Config to release the
// plugin connections.
func ParseConfig(data []byte) (*Config, error) {
	fail := func(field, format string, args ...any) error {
		return &ConfigError{Fields: []FieldError{{field, fmt.Sprintf(format, args...)}}}
	}
	if len(data) == 0 {
		return nil, fail("", "the file is empty")
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fail("", "not valid YAML or JSON: %s", decodeError(err))
	}
	var fc fileConfig
	strict, err := kjson.UnmarshalStrict(js, &fc, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return nil, fail("", "cannot decode: %s", decodeError(err))
	}
	if len(strict) > 0 {
		ce := &ConfigError{}
		for _, e := range strict {
			ce.Fields = append(ce.Fields, FieldError{"", "strict decoding error: " + decodeError(e)})
		}
		return nil, ce
	}
	switch {
	case fc.APIVersion == APIVersion && fc.Kind == Kind, fc.APIVersion == LegacyAPIVersion && fc.Kind == LegacyKind:
	case fc.Kind == "" || fc.APIVersion == "":
		return nil, fail("", "apiVersion and kind are required: apiVersion: %s, kind: %s", APIVersion, Kind)
	default:
		return nil, fail("", "unsupported apiVersion %s and kind %s: want apiVersion: %s, kind: %s",
			quoteName(fc.APIVersion), quoteName(fc.Kind), APIVersion, Kind)
	}
	setDefaults(&fc)
	if errs := validate(&fc); len(errs) > 0 {
		return nil, &ConfigError{Fields: errs}
	}
	return build(&fc)
}

// build makes the ciphers and chains and applies kube-apiserver's checks at
// that stage: KMS v1 refusal and masking across resource lists.
func build(fc *fileConfig) (*Config, error) {
	cfg := &Config{rules: map[groupResource]*Chain{}}
	lists := map[groupResource][]Entry{}
	for i, rc := range fc.Resources {
		var entries []Entry
		for j, pc := range rc.Providers {
			field := fmt.Sprintf("resources[%d].providers[%d]", i, j)
			es, err := providerEntries(pc, field)
			if err != nil {
				return nil, err
			}
			entries = append(entries, es...)
		}
		for k, res := range rc.Resources {
			gr := parseGroupResource(res)
			for _, mask := range []groupResource{{gr.group, "*"}, anyGroupAnyResource} {
				if _, masked := lists[mask]; masked {
					return nil, &ConfigError{Fields: []FieldError{{fmt.Sprintf("resources[%d].resources[%d]", i, k),
						fmt.Sprintf("resource %s is masked by earlier rule %s", quoteName(gr.String()), quoteName(mask.String()))}}}
				}
			}
			if _, seen := lists[gr]; !seen {
				cfg.order = append(cfg.order, gr)
			}
			// A resource named in several lists reads with all of them, in order.
			lists[gr] = append(lists[gr], entries...)
		}
	}
	for gr, es := range lists {
		ch, err := NewChain(es...)
		if err != nil {
			return nil, err
		}
		cfg.rules[gr] = ch
	}
	return cfg, nil
}

func providerEntries(pc providerConfig, field string) ([]Entry, error) {
	switch {
	case pc.Identity != nil:
		return []Entry{{Provider: Identity, Cipher: IdentityCipher}}, nil
	case pc.KMS != nil:
		if pc.KMS.APIVersion == "v1" {
			return nil, &ConfigError{Fields: []FieldError{{field + ".kms.apiVersion",
				"KMSv1 is deprecated and will only receive security updates going forward. Use KMSv2 instead. kube-apiserver refuses it unless --feature-gates=KMSv1=true, and atrest does not support it"}}}
		}
		return kmsEntries(pc.KMS, field)
	}
	var (
		provider string
		keys     []keyConfig
		newC     func([]byte) (Cipher, error)
	)
	switch {
	case pc.AESCBC != nil:
		provider, keys = AESCBC, pc.AESCBC.Keys
		newC = func(k []byte) (Cipher, error) { return cbc.New(k) }
	case pc.AESGCM != nil:
		provider, keys = AESGCM, pc.AESGCM.Keys
		newC = func(k []byte) (Cipher, error) { return aead.NewGCM(k) }
	case pc.Secretbox != nil:
		provider, keys = Secretbox, pc.Secretbox.Keys
		newC = func(k []byte) (Cipher, error) { return aead.NewSecretbox(k) }
	}
	out := make([]Entry, 0, len(keys))
	for i, k := range keys {
		key, err := base64.StdEncoding.DecodeString(k.Secret)
		if err != nil { // validated already
			return nil, &ConfigError{Fields: []FieldError{{fmt.Sprintf("%s.%s.keys[%d].secret", field, provider, i), "secrets must be base64 encoded"}}}
		}
		c, err := newC(key)
		clear(key)
		if err != nil {
			return nil, &ConfigError{Fields: []FieldError{{fmt.Sprintf("%s.%s.keys[%d].secret", field, provider, i), err.Error()}}}
		}
		out = append(out, Entry{Provider: provider, Name: k.Name, Cipher: c})
	}
	return out, nil
}

// For returns the chain for a resource, given as "resource" for the core
// group or "resource.group" (e.g. "secrets", "deployments.apps"). Like
// kube-apiserver it looks for the exact resource, then "*.group", then "*.*",
// and otherwise returns IdentityChain() (the value is stored in the clear).
// A resource with '*', '/' or white space is refused. A configuration may
// still hold a rule with such a name, as kube-apiserver's loader accepts
// it; no resource reaches that rule.
func (c *Config) For(resource string) (*Chain, error) {
	if resource == "" || strings.ContainsAny(resource, "* \t\n/") {
		return nil, fmt.Errorf("envelope: invalid resource %q: want resource or resource.group, e.g. secrets or deployments.apps", resource)
	}
	gr := parseGroupResource(resource)
	for _, k := range []groupResource{gr, {gr.group, "*"}, anyGroupAnyResource} {
		if ch, ok := c.rules[k]; ok {
			return ch, nil
		}
	}
	return IdentityChain(), nil
}

// Resources returns the resource rules of the configuration as written
// ("secrets", "*.apps", "*.*", …), in the order they first appear.
func (c *Config) Resources() []string {
	out := make([]string, len(c.order))
	for i, gr := range c.order {
		out[i] = gr.String()
	}
	return out
}
