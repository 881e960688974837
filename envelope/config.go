package envelope

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/cbc"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// ErrInvalidConfig is matched (errors.Is) by every error ParseConfig and
// LoadConfig return for a configuration kube-apiserver would refuse. The
// errors are *ConfigError values that name the file, the entry and the field;
// they never contain a key or any other secret.
var ErrInvalidConfig = errors.New("invalid encryption configuration")

// ConfigError lists what is wrong with a configuration, like kube-apiserver's
// aggregated field errors but without values.
type ConfigError struct {
	File   string       // the path given to LoadConfig, empty for ParseConfig
	Fields []FieldError // in the order kube-apiserver checks them
}

// FieldError is one problem at one field path, such as
// "resources[0].providers[1].aescbc.keys[0].secret".
type FieldError struct {
	Field string
	Msg   string
}

func (e FieldError) String() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	b.WriteString(ErrInvalidConfig.Error())
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.String())
	}
	return b.String()
}

func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// The two kinds kube-apiserver decodes an encryption configuration as.
const (
	APIVersion       = "apiserver.config.k8s.io/v1"
	Kind             = "EncryptionConfiguration"
	LegacyAPIVersion = "v1"               // registered "due to a docs bug"
	LegacyKind       = "EncryptionConfig" // with LegacyAPIVersion only
)

// The file format, as kube-apiserver's apiserver.config.k8s.io/v1 types
// define it. Field names are matched case-sensitively; unknown and duplicate
// fields are errors.
type fileConfig struct {
	Kind       string           `json:"kind"`
	APIVersion string           `json:"apiVersion"`
	Resources  []resourceConfig `json:"resources"`
}

type resourceConfig struct {
	Resources []string         `json:"resources"`
	Providers []providerConfig `json:"providers"`
}

type providerConfig struct {
	AESGCM    *keysConfig `json:"aesgcm,omitempty"`
	AESCBC    *keysConfig `json:"aescbc,omitempty"`
	Secretbox *keysConfig `json:"secretbox,omitempty"`
	Identity  *struct{}   `json:"identity,omitempty"`
	KMS       *kmsConfig  `json:"kms,omitempty"`
}

type keysConfig struct {
	Keys []keyConfig `json:"keys"`
}

type keyConfig struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

type kmsConfig struct {
	APIVersion string    `json:"apiVersion"`
	Name       string    `json:"name"`
	CacheSize  *int32    `json:"cachesize,omitempty"`
	Endpoint   string    `json:"endpoint"`
	Timeout    *duration `json:"timeout,omitempty"`
}

// duration decodes like metav1.Duration: a string for time.ParseDuration.
type duration struct{ time.Duration }

func (d *duration) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return errors.New("timeout must be a duration string such as \"3s\"")
	}
	d.Duration, err = time.ParseDuration(s)
	return err
}

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
// usable. KMS providers are validated and recognised in chains, but fail
// every operation with ErrUnsupported; KMS v1 is refused, as kube-apiserver
// refuses it unless the deprecated KMSv1 feature gate is on.
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

// fieldName is a name that may be quoted back in an error: a letter, then
// at most 30 letters, digits, '_' or '-'.
const fieldName = `[A-Za-z][A-Za-z0-9_-]{0,30}`

// fieldErrorText renders an unknown or duplicate field error from its parts
// (kind, parent path, last name), quoting the last name only when it looks
// like a field name: a stray key may be a secret that lost its "secret:".
func fieldErrorText(m []string) string {
	kind, parent, last := m[1], m[2], m[3]
	if parent != "" && !fieldPath.MatchString(parent) {
		return kind + " field (not shown)"
	}
	full := last
	if parent != "" {
		full = parent + "." + last
	}
	switch {
	case fieldLast.MatchString(last):
		return fmt.Sprintf("%s field %q", kind, full)
	case parent != "":
		return fmt.Sprintf("%s field under %q (its name, %d bytes, is not a field name and is not shown)", kind, parent, len(last))
	}
	return fmt.Sprintf("%s field (its name, %d bytes, is not a field name and is not shown)", kind, len(last))
}

// nameLike matches what an apiVersion, kind, URL scheme or resource rule
// looks like; only such values are quoted back in errors.
var nameLike = regexp.MustCompile(`^[A-Za-z0-9._/*+-]{1,63}$`)

// quoteName quotes a value taken from the document if it looks like a name,
// and otherwise only says how long it is: a misquoted multi-line scalar can
// carry the lines after it, secrets included, into any string field.
func quoteName(s string) string {
	if nameLike.MatchString(s) {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("(a value of %d bytes, not shown)", len(s))
}

// decodeError renders a decoder error without any value from the document.
// The YAML decoders quote keys and values in several messages ("invalid map
// key: …", "unsupported map key of type …, value: …", "cannot unmarshal !!str
// `…`"), and a value may be a key secret, so only messages known to name
// fields alone, or that contain no quoting at all, are shown; any other
// becomes a generic message with its line number.
func decodeError(err error) string {
	msg := err.Error()
	switch {
	case fieldError.MatchString(msg):
		return fieldErrorText(fieldError.FindStringSubmatch(msg))
	case duplicateKeyError.MatchString(msg):
		return "duplicate " + duplicateKeyError.FindString(msg) + lineOf(msg)
	case !strings.ContainsAny(msg, "\"'`{}[]%\\") && !strings.Contains(msg, "map["):
		return msg
	}
	return "the document does not decode as an EncryptionConfiguration" + lineOf(msg)
}

var (
	// unknown field "resources[0].providers[0].aescbc.foo", duplicate field "secret"
	fieldError = regexp.MustCompile(`^(?:json: )?(unknown|duplicate) field "(?:([A-Za-z0-9_.\[\]-]{1,200})\.)?([^".]{1,200})"$`)
	// fieldPath is a path of names the decoder has matched to fields.
	fieldPath = regexp.MustCompile(`^` + fieldName + `(?:\[\d+\])*(?:\.` + fieldName + `(?:\[\d+\])*)*$`)
	// fieldLast is a name that may be quoted back: too short to hold a
	// whole base64 AES or secretbox key (24, 32 or 44 characters, the
	// shortest without '='), and led by a letter as field names are.
	fieldLast = regexp.MustCompile(`^` + fieldName + `(?:\[\d+\])*$`)
	// yaml.v2: line 5: key "resources" already set in map
	duplicateKeyError = regexp.MustCompile(`key "` + fieldName + `" already set in map`)
	lineNumber        = regexp.MustCompile(`line (\d+)`)
)

// lineOf returns " (line N)" for the first line number in msg, or "".
func lineOf(msg string) string {
	if m := lineNumber.FindStringSubmatch(msg); m != nil {
		return " (line " + m[1] + ")"
	}
	return ""
}

func setDefaults(fc *fileConfig) {
	for i := range fc.Resources {
		for _, p := range fc.Resources[i].Providers {
			if k := p.KMS; k != nil {
				if k.Timeout == nil {
					k.Timeout = &duration{3 * time.Second}
				}
				if k.APIVersion == "" {
					k.APIVersion = "v1"
				}
				if k.CacheSize == nil && k.APIVersion == "v1" {
					c := int32(1000)
					k.CacheSize = &c
				}
			}
		}
	}
}

// validate applies kube-apiserver's ValidateEncryptionConfiguration rules,
// in its order, with its messages, but never quotes a value.
func validate(fc *fileConfig) []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	if len(fc.Resources) == 0 {
		add("resources", "at least one resources is required")
		return errs
	}
	kmsNames := map[string]bool{}
	for i, rc := range fc.Resources {
		r := fmt.Sprintf("resources[%d].resources", i)
		p := fmt.Sprintf("resources[%d].providers", i)
		if len(rc.Resources) == 0 {
			add(r, "at least one %s is required", r)
		}
		errs = append(errs, validateOverlap(rc.Resources, r)...)
		errs = append(errs, validateResourceNames(rc.Resources, r)...)
		if len(rc.Providers) == 0 {
			add(p, "at least one %s is required", p)
		}
		for j, pc := range rc.Providers {
			path := fmt.Sprintf("%s[%d]", p, j)
			n := 0
			for _, set := range []bool{pc.KMS != nil, pc.AESGCM != nil, pc.AESCBC != nil, pc.Secretbox != nil, pc.Identity != nil} {
				if set {
					n++
				}
			}
			switch {
			case n == 0:
				add(path, "provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity")
			case n > 1:
				add(path, "more than one provider specified in a single element, should split into different list elements")
			}
			switch {
			case pc.KMS != nil:
				errs = append(errs, validateKMS(pc.KMS, path+".kms", kmsNames)...)
				kmsNames[pc.KMS.Name] = true
			case pc.AESGCM != nil:
				errs = append(errs, validateKeys(pc.AESGCM.Keys, path+".aesgcm.keys", aesKeySizes)...)
			case pc.AESCBC != nil:
				errs = append(errs, validateKeys(pc.AESCBC.Keys, path+".aescbc.keys", aesKeySizes)...)
			case pc.Secretbox != nil:
				errs = append(errs, validateKeys(pc.Secretbox.Keys, path+".secretbox.keys", secretboxKeySizes)...)
			}
		}
	}
	return errs
}

var (
	aesKeySizes       = []int{16, 24, 32}
	secretboxKeySizes = []int{32}
)

func validateOverlap(resources []string, field string) []FieldError {
	if len(resources) < 2 {
		return nil
	}
	var dup, overlap bool
	for i, a := range resources {
		r1 := parseGroupResource(a)
		for j, b := range resources {
			r2 := parseGroupResource(b)
			switch {
			case i == j:
			case r1 == r2 && !dup:
				dup = true
			case overlap:
			case r1 == anyGroupAnyResource:
				overlap = true
			case r1.group != r2.group:
			case r1.resource == "*" || r2.resource == "*":
				overlap = true
			}
		}
	}
	var errs []FieldError
	if dup {
		errs = append(errs, FieldError{field, "the same resource cannot be specified multiple times"})
	}
	if overlap {
		errs = append(errs, FieldError{field, "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked"})
	}
	return errs
}

func validateResourceNames(resources []string, field string) []FieldError {
	var errs []FieldError
	for j, res := range resources {
		f := fmt.Sprintf("%s[%d]", field, j)
		gr := parseGroupResource(res)
		var msg string
		switch {
		case strings.ToLower(res) != res:
			msg = "resource name should not contain capital letters"
		case res == "*":
			msg = "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources"
		case res == "apiserveripinfo" || res == "serviceipallocations" || res == "servicenodeportallocations":
			msg = "resources which do not have REST API/s cannot be encrypted"
		case gr.group == "events.k8s.io":
			msg = "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file"
		case gr.group == "extensions":
			msg = "'extensions' group has been removed and cannot be used for encryption"
		case gr.group == "*" && gr.resource != "*":
			msg = "encrypting the same resource across groups is not supported"
		default:
			continue
		}
		errs = append(errs, FieldError{f, msg})
	}
	return errs
}

func validateKeys(keys []keyConfig, field string, sizes []int) []FieldError {
	if len(keys) == 0 {
		return []FieldError{{field, "at least one keys is required"}}
	}
	var errs []FieldError
	for i, k := range keys {
		f := fmt.Sprintf("%s[%d]", field, i)
		if k.Name == "" {
			errs = append(errs, FieldError{f + ".name", "name is a mandatory field for a key"})
		}
		if k.Secret == "" {
			errs = append(errs, FieldError{f + ".secret", "secret is a mandatory field for a key"})
			continue
		}
		key, err := base64.StdEncoding.DecodeString(k.Secret)
		if err != nil {
			errs = append(errs, FieldError{f + ".secret", "secrets must be base64 encoded"})
			continue
		}
		if !slices.Contains(sizes, len(key)) {
			errs = append(errs, FieldError{f + ".secret", fmt.Sprintf("secret is not of the expected length, got %d, expected one of %v", len(key), sizes)})
		}
		clear(key)
	}
	return errs
}

func validateKMS(k *kmsConfig, field string, names map[string]bool) []FieldError {
	var errs []FieldError
	add := func(sub, msg string) { errs = append(errs, FieldError{field + "." + sub, msg}) }
	if k.Name == "" {
		add("name", "name is a mandatory field for a provider")
	}
	if k.APIVersion != "v1" && strings.Contains(k.Name, ":") {
		add("name", fmt.Sprintf("invalid KMS provider name %s, must not contain ':'", quoteName(k.Name)))
	}
	if k.APIVersion != "v1" && names[k.Name] {
		add("name", fmt.Sprintf("duplicate KMS provider name %s, names must be unique", quoteName(k.Name)))
	}
	if k.Timeout.Duration <= 0 {
		add("timeout", "timeout should be a positive value")
	}
	switch u, err := url.Parse(k.Endpoint); {
	case k.Endpoint == "":
		add("endpoint", "endpoint is a mandatory field for a kms")
	case err != nil:
		add("endpoint", "invalid endpoint for kms provider")
	case u.Scheme != "unix":
		add("endpoint", fmt.Sprintf("unsupported scheme %s for KMS provider, only unix is supported", quoteName(u.Scheme)))
	}
	if k.APIVersion != "v1" && k.CacheSize != nil {
		add("cachesize", "cachesize is not supported in v2")
	}
	if k.APIVersion == "v1" && k.CacheSize != nil && *k.CacheSize == 0 {
		add("cachesize", "cachesize should be a positive value, or negative to disable")
	}
	if k.APIVersion != "v1" && k.APIVersion != "v2" {
		add("apiVersion", "unsupported apiVersion apiVersion for KMS provider, only v1 and v2 are supported")
	}
	return errs
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
		return []Entry{{Provider: KMSv2, Name: pc.KMS.Name, Cipher: unsupported{"kms v2 provider " + pc.KMS.Name + " needs its KMS plugin"}}}, nil
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
