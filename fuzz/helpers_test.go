package fuzz_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/nacl/secretbox"
	"k8s.io/apiserver/pkg/storage/value"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/internal/impl"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// ---------------------------------------------------------------------------
// Keys

// detKey returns n deterministic key bytes for label: the suite's keys are
// fixed so that corpora, findings and reproducers stay valid across runs.
func detKey(label string, n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		h := sha256.Sum256(fmt.Appendf(nil, "atrest-fuzz/%s/%d", label, i))
		out = append(out, h[:]...)
	}
	return out[:n]
}

// aesKeySizes are the AES key sizes both implementations accept.
var aesKeySizes = [3]int{16, 24, 32}

// ---------------------------------------------------------------------------
// Hot paths against the generic path

// variant is one setting of the implementation registry: "auto" (what the
// CPU detection chose for every package) or one implementation of one
// package with the others on auto.
type variant struct{ pkg, name string }

func (v variant) String() string {
	if v.pkg == "" {
		return "auto"
	}
	return v.pkg + "=" + v.name
}

// variants lists auto and every implementation of the given packages
// ("cbc", "gcm", "secretbox") that this CPU runs, generic included.
func variants(pkgs ...string) []variant {
	out := []variant{{}}
	for _, p := range pkgs {
		for _, n := range impl.List(p) {
			out = append(out, variant{p, n})
		}
	}
	return out
}

// with runs f under v and restores the registry. Fuzz workers run one input
// at a time, so switching the registry inside a target is serial.
func (v variant) with(t testing.TB, f func()) {
	if v.pkg != "" {
		if !impl.Select(v.pkg, v.name) {
			t.Fatalf("cannot select %s", v)
		}
		defer impl.Reset(v.pkg)
	}
	f()
}

// ---------------------------------------------------------------------------
// Model: kube-apiserver's read rules (SPEC §1–§5) written from the
// specification over the standard library and x/crypto, sharing no code with
// atrest's cbc, aead and envelope packages nor with the peer. It decides
// whose fault a disagreement between atrest and the peer is.

func modelOpenCBC(key, data []byte) ([]byte, bool) {
	if len(data) < aes.BlockSize {
		return nil, false
	}
	iv, ct := data[:aes.BlockSize], data[aes.BlockSize:]
	if len(ct)%aes.BlockSize != 0 || len(ct) == 0 { // no block, no padding byte
		return nil, false
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(b, iv).CryptBlocks(pt, ct)
	p := int(pt[len(pt)-1])
	if p == 0 || p > len(pt) {
		return nil, false
	}
	for _, c := range pt[len(pt)-p:] {
		if int(c) != p {
			return nil, false
		}
	}
	return pt[:len(pt)-p], true
}

func modelOpenGCM(key, data, ad []byte) ([]byte, bool) {
	if len(data) < 12 {
		return nil, false
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	pt, err := g.Open(nil, data[:12], data[12:], ad)
	return pt, err == nil
}

func modelOpenSecretbox(key, data []byte) ([]byte, bool) {
	if len(data) < 24+secretbox.Overhead {
		return nil, false
	}
	return secretbox.Open(nil, data[24:], (*[24]byte)(data[:24]), (*[32]byte)(key))
}

// modelEntry is one flattened provider key of a configuration.
type modelEntry struct {
	provider string // envelope.Identity, AESCBC, AESGCM, Secretbox, KMSv2
	name     string
	key      []byte
}

func (e modelEntry) prefix() string {
	switch e.provider {
	case envelope.Identity:
		return ""
	case envelope.KMSv2:
		return "k8s:enc:kms:v2:" + e.name + ":"
	}
	return "k8s:enc:" + e.provider + ":v1:" + e.name + ":"
}

// modelResult is what a read did.
type modelResult struct {
	ok      bool
	plain   []byte
	stale   bool
	entry   int  // the entry that read it, if ok
	matched bool // some non-identity entry's prefix matched
}

// modelDecrypt applies SPEC §1's read loop to the flattened entries.
func modelDecrypt(entries []modelEntry, stored, ad []byte) modelResult {
	var r modelResult
	for i, e := range entries {
		p := e.prefix()
		if !strings.HasPrefix(string(stored), p) {
			continue
		}
		data := stored[len(p):]
		var pt []byte
		var ok bool
		switch e.provider {
		case envelope.Identity:
			if bytes.HasPrefix(data, []byte("k8s:enc:")) {
				continue // skipped silently
			}
			pt, ok = data, true
		case envelope.AESCBC:
			pt, ok = modelOpenCBC(e.key, data)
		case envelope.AESGCM:
			pt, ok = modelOpenGCM(e.key, data, ad)
		case envelope.Secretbox:
			pt, ok = modelOpenSecretbox(e.key, data)
		case envelope.KMSv2:
			ok = false // no plugin
		}
		r.matched = r.matched || e.provider != envelope.Identity
		if ok {
			return modelResult{ok: true, plain: pt, stale: i != 0, entry: i, matched: r.matched}
		}
	}
	return r
}

// ---------------------------------------------------------------------------
// Configurations

type keyDef struct {
	Name string
	Key  []byte
}

// provDef is one element of a providers list. For KMSv2, Name is the plugin.
type provDef struct {
	Kind string
	Keys []keyDef
	Name string
}

type confDef struct {
	Legacy    bool
	Resources []string
	Providers []provDef
}

// yaml renders the configuration as an administrator would write it.
func (c confDef) yaml() string {
	rule := kubepeer.Rule{Resources: c.Resources}
	for _, p := range c.Providers {
		kp := kubepeer.Provider{Kind: p.Kind, Name: p.Name}
		for _, k := range p.Keys {
			kp.Keys = append(kp.Keys, kubepeer.Key{Name: k.Name, Secret: base64.StdEncoding.EncodeToString(k.Key)})
		}
		rule.Providers = append(rule.Providers, kp)
	}
	return kubepeer.Config{Legacy: c.Legacy, Rules: []kubepeer.Rule{rule}}.YAML()
}

// entries flattens the providers as kube-apiserver's two levels read them.
func (c confDef) entries() []modelEntry {
	var out []modelEntry
	for _, p := range c.Providers {
		switch p.Kind {
		case envelope.Identity:
			out = append(out, modelEntry{provider: envelope.Identity})
		case envelope.KMSv2:
			out = append(out, modelEntry{provider: envelope.KMSv2, name: p.Name})
		default:
			for _, k := range p.Keys {
				out = append(out, modelEntry{provider: p.Kind, name: k.Name, key: k.Key})
			}
		}
	}
	return out
}

func keys(kind string, names ...string) provDef {
	p := provDef{Kind: kind}
	for i, n := range names {
		size := 32
		if kind != envelope.Secretbox {
			size = aesKeySizes[(len(n)+i)%3]
		}
		// The key depends on kind, name and position, so a duplicate name
		// holds a different key.
		p.Keys = append(p.Keys, keyDef{n, detKey(fmt.Sprintf("%s/%s/%d", kind, n, i), size)})
	}
	return p
}

var identityProv = provDef{Kind: envelope.Identity}

// fixedConfigs are the configurations the chain targets choose from with
// their first argument: every provider, every AES key size, rotations,
// identity first and last, duplicate key names, key names with ':' whose
// prefixes nest, a KMS v2 provider, and the legacy kind.
var fixedConfigs = []confDef{
	{Resources: []string{"secrets"}, Providers: []provDef{keys(envelope.AESCBC, "k1", "k2", "k3"), identityProv}},
	{Resources: []string{"secrets"}, Providers: []provDef{keys(envelope.AESGCM, "g1", "g2", "g3")}},
	{Resources: []string{"secrets"}, Providers: []provDef{keys(envelope.Secretbox, "s1", "s2")}},
	{Resources: []string{"secrets"}, Providers: []provDef{identityProv, keys(envelope.AESGCM, "g1"), keys(envelope.AESCBC, "k1"), keys(envelope.Secretbox, "s1")}},
	{Resources: []string{"secrets", "*.apps"}, Legacy: true, Providers: []provDef{keys(envelope.Secretbox, "s2", "s1"), keys(envelope.AESCBC, "k3", "k1"), keys(envelope.AESGCM, "g2", "g1"), identityProv}},
	{Resources: []string{"secrets"}, Providers: []provDef{keys(envelope.AESCBC, "dup", "dup", "a:b", "a"), keys(envelope.AESGCM, "a", "a:b"), keys(envelope.Secretbox, "x:", "x")}},
	{Resources: []string{"secrets"}, Providers: []provDef{{Kind: envelope.KMSv2, Name: "plugin"}, keys(envelope.AESGCM, "g1"), keys(envelope.AESGCM, "g1", "g2"), identityProv}},
	{Resources: []string{"*.*"}, Providers: []provDef{identityProv}},
}

// fixedResource is the resource the chain targets read and write.
const fixedResource = "secrets"

func pickConfig(sel uint8) (int, confDef) {
	i := int(sel) % len(fixedConfigs)
	return i, fixedConfigs[i]
}

// atrestChain loads yaml with atrest and returns the chain for resource.
func atrestChain(yaml, resource string) (*envelope.Chain, error) {
	cfg, err := envelope.ParseConfig([]byte(yaml))
	if err != nil {
		return nil, err
	}
	return cfg.For(resource)
}

// kubeLoad loads yaml with kube-apiserver's loader from the scratch file.
func kubeLoad(yaml []byte) (kubepeer.Transformers, error) {
	// The context only bounds the KMS stand-in's probe goroutines; the
	// transformers of the other providers do not use it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	return kubepeer.Load(ctx, scratch, yaml)
}

// The fixed configurations are loaded once per process by each side.
var (
	fixedAtrest []*envelope.Chain
	fixedKube   []value.Transformer
)

func fixedChains(t testing.TB) ([]*envelope.Chain, []value.Transformer) {
	if fixedAtrest == nil {
		for i, c := range fixedConfigs {
			ch, err := atrestChain(c.yaml(), fixedResource)
			if err != nil {
				t.Fatalf("config %d: atrest: %v", i, err)
			}
			m, err := kubeLoad([]byte(c.yaml()))
			if err != nil {
				t.Fatalf("config %d: kubernetes: %v", i, err)
			}
			fixedAtrest = append(fixedAtrest, ch)
			fixedKube = append(fixedKube, m.For(fixedResource))
		}
	}
	return fixedAtrest, fixedKube
}

// ---------------------------------------------------------------------------
// The peer

// peerResult is what the peer did with one call.
type peerResult struct {
	out      []byte
	stale    bool
	err      error
	panicked bool
	panicMsg string
}

func (r peerResult) String() string {
	switch {
	case r.panicked:
		return "panicked: " + r.panicMsg
	case r.err != nil:
		return "rejected: " + r.err.Error()
	}
	return fmt.Sprintf("accepted (stale=%v, %d bytes: %x)", r.stale, len(r.out), short(r.out))
}

func kubeRead(tr value.Transformer, stored, ad []byte) (r peerResult) {
	defer func() {
		if p := recover(); p != nil {
			r = peerResult{panicked: true, panicMsg: fmt.Sprint(p)}
		}
	}()
	// The peer may decrypt in place; give it its own copy.
	r.out, r.stale, r.err = tr.TransformFromStorage(context.Background(), bytes.Clone(stored), value.DefaultContext(ad))
	return r
}

func kubeWrite(tr value.Transformer, pt, ad []byte) (r peerResult) {
	defer func() {
		if p := recover(); p != nil {
			r = peerResult{panicked: true, panicMsg: fmt.Sprint(p)}
		}
	}()
	r.out, r.err = tr.TransformToStorage(context.Background(), bytes.Clone(pt), value.DefaultContext(ad))
	return r
}

func kubeLoadSafe(yaml []byte) (m kubepeer.Transformers, err error, panicMsg string) {
	defer func() {
		if p := recover(); p != nil {
			panicMsg = fmt.Sprint(p)
		}
	}()
	m, err = kubeLoad(yaml)
	return m, err, ""
}

// ---------------------------------------------------------------------------
// Findings

// findingsDir is where findings about the peer are written, relative to the
// package directory in which go test runs.
const findingsDir = "findings"

var digits = regexp.MustCompile(`[0-9]+`)

// recordFinding records that the peer misbehaved. class names the kind of
// misbehaviour, coarsely enough that one bug gives one file (numbers are
// blurred); the file is fuzz/findings/<target>-<sha256(class)[:12]>.txt and
// is written only if it does not exist yet, so seed runs and repeated hits
// of a known finding write nothing and the directory stays deterministic.
// The input and what each side did are written in a fixed order.
func recordFinding(t testing.TB, target, class string, input [][]byte, sides ...string) {
	class = digits.ReplaceAllString(class, "N")
	h := sha256.Sum256([]byte(target + "\x00" + class))
	name := filepath.Join(findingsDir, fmt.Sprintf("%s-%s.txt", target, hex.EncodeToString(h[:6])))
	t.Logf("finding about the peer (not a failure of atrest): %s: %s", name, class)
	if _, err := os.Stat(name); err == nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "target: %s\nclass: %s\n", target, class)
	for i, in := range input {
		fmt.Fprintf(&b, "input[%d] (hex): %s\n", i, hex.EncodeToString(in))
	}
	for _, s := range sides {
		b.WriteString(s + "\n")
	}
	if err := os.MkdirAll(findingsDir, 0o755); err != nil {
		t.Logf("cannot record finding: %v", err)
		return
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return // another worker got there first
	}
	defer f.Close()
	f.WriteString(b.String())
}

// ---------------------------------------------------------------------------
// Small helpers

func short(b []byte) []byte {
	if len(b) > 48 {
		return b[:48]
	}
	return b
}

// isOneOf reports whether err matches one of the sentinels.
func isOneOf(err error, sentinels ...error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// dstPrefix is what the targets put in front of dst to check that Open
// appends and, on failure, leaves dst's length and spare capacity alone.
var dstPrefix = []byte("dst:")

// withSpare returns a dst holding dstPrefix with n bytes of zeroed spare capacity.
func withSpare(n int) []byte {
	d := make([]byte, len(dstPrefix), len(dstPrefix)+n)
	copy(d, dstPrefix)
	return d
}

func spareIsZero(d []byte) bool {
	s := d[len(d):cap(d)]
	return bytes.Count(s, []byte{0}) == len(s)
}
