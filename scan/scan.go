// Package scan audits the values kube-apiserver stored in etcd against an
// EncryptionConfiguration: per resource, how many values each provider and
// key wrote, which are in plaintext where encryption is configured, which
// are stale (readable, but not with the write key), which no configured key
// can read, and whether any aesgcm key was used twice with the same nonce.
//
// It reads a live etcd (Etcd, ranged gets only) or a snapshot file
// (Snapshot, opened read-only); it never writes.
package scan

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"math"
	"slices"
	"strings"

	"github.com/atrest-dev/atrest/aead/nonce"
	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/store"
)

// Options configures a scan.
type Options struct {
	// Prefix is the etcd key prefix to read; "" means EtcdPrefix + "/".
	Prefix string
	// EtcdPrefix is kube-apiserver's --etcd-prefix, from which resources are
	// derived; "" means "/registry".
	EtcdPrefix string
	// Progress, if set, is called every ProgressEvery values and at the end.
	Progress      func(values int)
	ProgressEvery int // 0 means 10000
	// MaxExamples bounds the etcd keys listed per finding; 0 means 5.
	MaxExamples int
}

// NonceBits is the size of an aesgcm nonce, drawn at random per write.
const NonceBits = 96

// NonceRisk is the collision probability the per-key write bound is set at:
// 2^-32, the bound NIST SP 800-38D asks of random 96-bit IVs.
var NonceRisk = math.Ldexp(1, -32)

// Report is the result of a scan. Its JSON form is stable for machines.
type Report struct {
	Source     string      `json:"source"`
	Revision   int64       `json:"revision"`
	Prefix     string      `json:"prefix"`
	Values     int         `json:"values"`
	Totals     Counts      `json:"totals"`
	Resources  []*Resource `json:"resources"`
	Keys       []*Key      `json:"keys"`
	NonceReuse []Reuse     `json:"nonceReuse"`
}

// Counts are the findings over a set of values.
type Counts struct {
	Values int   `json:"values"`
	Bytes  int64 `json:"bytes"`
	// Plaintext values are read by the identity provider although the
	// resource's write provider encrypts.
	Plaintext int `json:"plaintext"`
	// Stale values are readable but not with the write key (kube-apiserver
	// rewrites them on their next update); plaintext ones are included.
	Stale int `json:"stale"`
	// Unreadable values match no configured key or fail to decrypt with
	// every key whose prefix they carry.
	Unreadable int `json:"unreadable"`
	// Unchecked values are KMS v2 values, which need the cluster's plugin.
	Unchecked int `json:"unchecked"`
}

// Resource is the audit of one resource.
type Resource struct {
	Resource string `json:"resource"`
	// Chain lists the configured read keys in order; the first writes.
	Chain []string `json:"chain"`
	// Encrypted is whether the write provider encrypts.
	Encrypted bool `json:"encrypted"`
	Counts
	// ByKey counts values by the provider/key their prefix names
	// ("aesgcm/key1", "identity" for no k8s:enc: prefix), configured or not.
	ByKey map[string]int `json:"byKey"`
	// Examples lists a few etcd keys per finding ("plaintext", "stale",
	// "unreadable").
	Examples map[string][]string `json:"examples,omitempty"`

	chain *envelope.Chain
}

// Key is the use of one provider key across the scan: the values it wrote
// that are still stored, and for aesgcm the nonce-collision risk they carry.
type Key struct {
	Key    string `json:"key"`    // provider/name
	Values int    `json:"values"` // readable values stored under the key
	// For aesgcm: the probability that Values random 96-bit nonces contain
	// a repeat, and the most writes for which it stays at or below NonceRisk.
	// Values is a lower bound on the key's writes: overwritten and deleted
	// values drew nonces too.
	CollisionProbability float64 `json:"collisionProbability,omitempty"`
	MaxWrites            float64 `json:"maxWrites,omitempty"`
}

// Reuse is one aesgcm nonce seen more than once under one key: the
// catastrophic case (it leaks the XOR of the plaintexts and the GHASH key).
type Reuse struct {
	Key      string   `json:"key"`
	Nonce    string   `json:"nonce"` // hex
	EtcdKeys []string `json:"etcdKeys"`
}

// Scan reads every value under the prefix from src and audits it against
// cfg. It keeps one 12-byte nonce per readable aesgcm value in memory.
func Scan(ctx context.Context, src store.Source, cfg *envelope.Config, o Options) (*Report, error) {
	o.EtcdPrefix, o.Prefix = store.Prefixes(o.EtcdPrefix, o.Prefix)
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 10000
	}
	if o.MaxExamples <= 0 {
		o.MaxExamples = 5
	}
	rep := &Report{Source: src.String(), Prefix: o.Prefix}
	resources := map[string]*Resource{}
	keys := map[string]*Key{}
	type seen struct {
		first string
		reuse int // index in rep.NonceReuse + 1
	}
	nonces := map[string]map[[12]byte]*seen{}
	var buf []byte
	err := src.Each(ctx, o.Prefix, func(kv store.KV) error {
		etcdKey := string(kv.Key)
		name := store.ResourceOf(etcdKey, o.EtcdPrefix)
		r := resources[name]
		if r == nil {
			ch, err := cfg.For(name)
			if err != nil { // not a valid resource name: stored in the clear
				ch = identityChain
			}
			r = &Resource{Resource: name, ByKey: map[string]int{}, Examples: map[string][]string{}}
			r.chain = ch
			for _, e := range ch.Entries() {
				r.Chain = append(r.Chain, e.String())
			}
			r.Encrypted = ch.Entries()[0].Provider != envelope.Identity
			resources[name] = r
		}
		example := func(what string) {
			if len(r.Examples[what]) < o.MaxExamples {
				r.Examples[what] = append(r.Examples[what], etcdKey)
			}
		}
		r.Values++
		r.Bytes += int64(len(kv.Value))
		label, payload := Label(kv.Value)
		r.ByKey[label]++

		var err error
		var stale bool
		buf, stale, err = r.chain.Decrypt(buf[:0], kv.Value, kv.Key)
		switch {
		case err == nil:
		case errors.Is(err, envelope.ErrUnsupported):
			r.Unchecked++
			return progress(rep, o)
		default:
			r.Unreadable++
			example("unreadable")
			return progress(rep, o)
		}
		if stale {
			r.Stale++
			example("stale")
		}
		if label == envelope.Identity && r.Encrypted {
			r.Plaintext++
			example("plaintext")
		}
		k := keys[label]
		if k == nil {
			k = &Key{Key: label}
			keys[label] = k
		}
		k.Values++
		if strings.HasPrefix(label, envelope.AESGCM+"/") && len(payload) >= 12 {
			m := nonces[label]
			if m == nil {
				m = map[[12]byte]*seen{}
				nonces[label] = m
			}
			n := [12]byte(payload[:12])
			switch s := m[n]; {
			case s == nil:
				m[n] = &seen{first: etcdKey}
			case s.reuse == 0:
				rep.NonceReuse = append(rep.NonceReuse, Reuse{Key: label, Nonce: hex.EncodeToString(n[:]), EtcdKeys: []string{s.first, etcdKey}})
				s.reuse = len(rep.NonceReuse)
			default:
				u := &rep.NonceReuse[s.reuse-1]
				u.EtcdKeys = append(u.EtcdKeys, etcdKey)
			}
		}
		return progress(rep, o)
	})
	if err != nil {
		return nil, err
	}
	if o.Progress != nil {
		o.Progress(rep.Values)
	}
	switch s := src.(type) {
	case *store.Etcd:
		rep.Revision = s.Revision()
	case *store.Snapshot:
		rep.Revision = s.Revision()
	}
	rep.Resources = make([]*Resource, 0, len(resources))
	for _, r := range resources {
		if len(r.Examples) == 0 {
			r.Examples = nil
		}
		rep.Resources = append(rep.Resources, r)
		t := &rep.Totals
		t.Values += r.Values
		t.Bytes += r.Bytes
		t.Plaintext += r.Plaintext
		t.Stale += r.Stale
		t.Unreadable += r.Unreadable
		t.Unchecked += r.Unchecked
	}
	slices.SortFunc(rep.Resources, func(a, b *Resource) int { return strings.Compare(a.Resource, b.Resource) })
	space := math.Ldexp(1, NonceBits)
	maxWrites := nonce.MaxWrites(space, NonceRisk)
	for _, k := range keys {
		if strings.HasPrefix(k.Key, envelope.AESGCM+"/") {
			k.CollisionProbability = nonce.Collision(float64(k.Values), space)
			k.MaxWrites = maxWrites
		}
		rep.Keys = append(rep.Keys, k)
	}
	slices.SortFunc(rep.Keys, func(a, b *Key) int { return strings.Compare(a.Key, b.Key) })
	if rep.NonceReuse == nil {
		rep.NonceReuse = []Reuse{}
	}
	return rep, nil
}

func progress(rep *Report, o Options) error {
	rep.Values++
	if o.Progress != nil && rep.Values%o.ProgressEvery == 0 {
		o.Progress(rep.Values)
	}
	return nil
}

// Label names the provider and key a stored value's prefix declares, without
// a configuration: "identity" for a value without the k8s:enc: prefix,
// "aesgcm/key1" for k8s:enc:aesgcm:v1:key1:, "kms/name" for
// k8s:enc:kms:v2:name:, and "unknown" for a k8s:enc: prefix it cannot parse.
// payload is what follows the prefix.
func Label(stored []byte) (label string, payload []byte) {
	rest, ok := bytes.CutPrefix(stored, []byte(envelope.EncryptedPrefix))
	if !ok {
		return envelope.Identity, stored
	}
	// provider:version:name:payload; names cannot contain ':'.
	parts := bytes.SplitN(rest, []byte(":"), 4)
	if len(parts) != 4 {
		return "unknown", nil
	}
	prov, ver, name := string(parts[0]), string(parts[1]), string(parts[2])
	switch {
	case ver == "v1" && (prov == envelope.AESCBC || prov == envelope.AESGCM || prov == envelope.Secretbox):
	case ver == "v2" && prov == envelope.KMSv2:
	default:
		return "unknown", nil
	}
	return prov + "/" + name, parts[3]
}

var identityChain, _ = envelope.NewChain(envelope.Entry{Provider: envelope.Identity, Cipher: envelope.IdentityCipher})
