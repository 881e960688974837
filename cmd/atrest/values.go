package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/store"
)

// defaultMaxBytes bounds what the value commands read from standard input:
// far above etcd's default request limit (1.5 MiB), far below what would
// exhaust memory.
const defaultMaxBytes = 64 << 20

// valueFlags are the flags shared by encrypt, decrypt and inspect.
type valueFlags struct {
	config     string
	resource   string
	etcdKey    string
	etcdPrefix string
	maxBytes   int64
}

func (v *valueFlags) register(fs *flag.FlagSet, configRequired bool) {
	req := ""
	if configRequired {
		req = " (required)"
	}
	fs.StringVar(&v.config, "config", "", "EncryptionConfiguration `file`, as given to kube-apiserver's --encryption-provider-config"+req)
	fs.StringVar(&v.resource, "resource", "", "`resource` the value belongs to, as resource or resource.group (e.g. secrets, deployments.apps); default: taken from --key, which it must match")
	fs.StringVar(&v.etcdKey, "key", "", "the value's etcd `key`, e.g. /registry/secrets/default/s1: aesgcm authenticates it, so it must be exact")
	fs.StringVar(&v.etcdPrefix, "etcd-prefix", store.DefaultEtcdPrefix, "kube-apiserver's --etcd-prefix, from which the resource of --key is derived")
	fs.Int64Var(&v.maxBytes, "max-bytes", defaultMaxBytes, "refuse standard input longer than this many `bytes` (at least 1)")
}

// check refuses flag values that are out of range.
func (v *valueFlags) check() error {
	if v.maxBytes < 1 {
		return fmt.Errorf("%w: --max-bytes must be at least 1", errUsage)
	}
	return nil
}

// resourceName matches what a configuration can name: resource or
// resource.group, lowercase.
var resourceName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// resolve returns the resource of the value: the one kube-apiserver stores
// under --key (store.ResourceOf, the one resolver every command uses), which
// --resource must then match; or --resource when the key does not tell. A
// --resource that is malformed, or names no built-in resource of a built-in
// group (a typo such as Secrets, secret or deployments), is a usage error
// with a suggestion.
func (v *valueFlags) resolve() (store.Resource, error) {
	if v.resource != "" {
		if err := checkResource(v.resource); err != nil {
			return store.Resource{}, err
		}
	}
	if v.etcdKey == "" {
		if v.resource == "" {
			return store.Resource{}, fmt.Errorf("%w: --resource or --key is required to find the resource's rule", errUsage)
		}
		return store.Resource{Name: v.resource}, nil
	}
	res, err := store.ResourceOf(v.etcdKey, v.etcdPrefix)
	switch {
	case err == nil && v.resource != "" && v.resource != res.Name:
		return store.Resource{}, fmt.Errorf("%w: --resource %s does not match --key %q, which kube-apiserver uses for %s", errUsage, v.resource, v.etcdKey, res.Name)
	case err == nil:
		return res, nil
	case v.resource == "":
		return store.Resource{}, fmt.Errorf("%w: --resource is required: %v", errUsage, err)
	}
	return store.Resource{Name: v.resource}, nil
}

// checkResource refuses a --resource no configuration rule could mean.
func checkResource(name string) error {
	hint := ""
	if s := store.Suggest(name); s != "" {
		hint = fmt.Sprintf(" (did you mean %s?)", s)
	}
	if !resourceName.MatchString(name) {
		return fmt.Errorf("%w: --resource %q is not a resource name: want lowercase resource or resource.group, e.g. secrets or deployments.apps%s", errUsage, name, hint)
	}
	_, group, _ := strings.Cut(name, ".")
	if !store.BuiltIn(name) && store.BuiltInGroup(group) {
		what := "group " + group
		if group == "" {
			what = "the core group"
		}
		return fmt.Errorf("%w: --resource %s: %s has no such resource%s", errUsage, name, what, hint)
	}
	return nil
}

// resolved is what the value commands work with.
type resolved struct {
	res   store.Resource
	chain *envelope.Chain
	// noRule is set when no rule of the configuration names the resource
	// (kube-apiserver stores it with identity) or kube-apiserver never
	// encrypts it: writing it means writing plaintext.
	noRule bool
}

// chain resolves the resource, loads the configuration and returns the
// resource's chain.
func (v *valueFlags) chain() (resolved, error) {
	if v.config == "" {
		return resolved{}, fmt.Errorf("%w: --config is required", errUsage)
	}
	res, err := v.resolve()
	if err != nil {
		return resolved{}, err
	}
	cfg, err := envelope.LoadConfig(v.config)
	if err != nil {
		return resolved{}, err
	}
	ch, err := store.ChainFor(cfg, res)
	if err != nil {
		return resolved{}, fmt.Errorf("%w: %w", errUsage, err)
	}
	return resolved{res: res, chain: ch, noRule: res.Unencrypted || ch == envelope.IdentityChain()}, nil
}

// why says why r's values are stored in the clear.
func (r resolved) why() string {
	if r.res.Unencrypted {
		return fmt.Sprintf("kube-apiserver never encrypts %s, whatever the configuration", r.res.Name)
	}
	return fmt.Sprintf("no rule of the configuration names %s (no exact, *.group or *.* rule): kube-apiserver stores it in plaintext", r.res.Name)
}

// readInput reads all of r, refusing more than max bytes (max >= 1).
func readInput(r io.Reader, max int64) ([]byte, error) {
	limit := max
	if limit < math.MaxInt64 {
		limit++ // one more byte tells that the input is too long
	}
	data, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return nil, fmt.Errorf("reading standard input: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("standard input is longer than --max-bytes=%d", max)
	}
	return data, nil
}

// etcdctlNewline reports whether data looks like an encrypted value that
// `etcdctl get --print-value-only` printed, which adds a newline.
func etcdctlNewline(data []byte) bool {
	return bytes.HasPrefix(data, []byte(envelope.EncryptedPrefix)) && bytes.HasSuffix(data, []byte("\n"))
}

var errNoArgs = errors.New("takes no arguments: the value is read from standard input")

// setupKeyed parses the flags of encrypt and decrypt, which need a
// configuration and the etcd key, and returns the resolved chain, the etcd
// key and standard input. extra registers a command's own flags.
func setupKeyed(sio stdio, name, usage string, args []string, extra func(*flag.FlagSet)) (r resolved, etcdKey, input []byte, err error) {
	var v valueFlags
	fs := newFlags(sio, name, usage)
	v.register(fs, true)
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return r, nil, nil, err
	}
	if fs.NArg() > 0 {
		return r, nil, nil, fmt.Errorf("%w: %w", errUsage, errNoArgs)
	}
	if err := v.check(); err != nil {
		return r, nil, nil, err
	}
	if v.etcdKey == "" {
		return r, nil, nil, fmt.Errorf("%w: --key is required: the etcd key is aesgcm's authenticated data", errUsage)
	}
	if r, err = v.chain(); err != nil {
		return r, nil, nil, err
	}
	if input, err = readInput(sio.in, v.maxBytes); err != nil {
		return r, nil, nil, err
	}
	return r, []byte(v.etcdKey), input, nil
}
