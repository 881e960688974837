// Package scan audits the values kube-apiserver stored in etcd against an
// EncryptionConfiguration: per resource, how many values each provider and
// key wrote, which are in plaintext where encryption is configured, which
// are stale (readable, but not with the write key), which no configured key
// can read, and whether any aesgcm key was used twice with the same nonce.
//
// KMS v2 values are decrypted through their plugin when it is reachable
// (stale when their key ID or DEK source type is not what the provider
// writes now) and counted as unchecked when it is not. Either way each is
// described from its payload and counted per provider, key ID (KEK) and
// DEK source type, with the DEKs or seeds the values share (Report.KMS).
//
// It reads a store.Source: a live etcd (store.Etcd, ranged gets only) or a
// snapshot file (store.Snapshot, verified and opened read-only); it never
// writes. Values under keys it cannot map to a resource are reported
// (Report.Unresolved), never audited against a guessed rule.
package scan

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/aead/nonce/risk"
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
	// KMS counts the KMS v2 values per provider, key ID and DEK source
	// type; KMSPlugins says what each provider's plugin writes now.
	KMS        []*KMSKey    `json:"kms"`
	KMSPlugins []*KMSPlugin `json:"kmsPlugins"`
	// Unresolved lists the values atrest could not map to a resource.
	Unresolved []*Unresolved `json:"unresolved"`
	// Verified says how a snapshot file was verified (store.VerifiedSHA256
	// or store.VerifiedNone); empty for a live etcd.
	Verified string `json:"verified,omitempty"`
	// Warnings are findings about the scan itself, for people.
	Warnings []string `json:"warnings,omitempty"`
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
	// Unchecked values are KMS v2 values whose plugin was unreachable
	// (errors matching envelope.ErrUnsupported): not decrypted, but
	// described from their payload in Report.KMS.
	Unchecked int `json:"unchecked"`
	// Unresolved values are under etcd keys atrest cannot map to a
	// resource (Report.Unresolved): not audited, reported.
	Unresolved int `json:"unresolved"`
}

// Resource is the audit of one resource.
type Resource struct {
	Resource string `json:"resource"`
	// Chain lists the configured read keys in order; the first writes.
	Chain []string `json:"chain"`
	// Encrypted is whether the write provider encrypts.
	Encrypted bool `json:"encrypted"`
	// Unencrypted is set for data kube-apiserver never encrypts, whatever
	// the configuration (store.Resource.Unencrypted): read with identity.
	Unencrypted bool `json:"unencrypted,omitempty"`
	Counts
	// ByKey counts values by the provider/key they were written with
	// ("aesgcm/key1", "identity" for no k8s:enc: prefix), configured or
	// not: the entry that read the value, else the configured entry its
	// prefix matches, else the prefix as envelope.ParsePrefix reads it
	// (a trailing '?' when the key name is ambiguous; "unknown" for a
	// k8s:enc: prefix it cannot parse).
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

// Unresolved counts the values under one key segment that atrest cannot
// map to a resource (store.ErrUnknownResource): it cannot tell which rule of
// the configuration applies to them, so it reports them instead of
// guessing.
type Unresolved struct {
	Segment  string         `json:"segment"` // the first key segment after the etcd prefix
	Values   int            `json:"values"`
	Bytes    int64          `json:"bytes"`
	ByKey    map[string]int `json:"byKey"`
	Examples []string       `json:"examples"`
}

// Scan reads every value under the prefix from src and audits it against
// cfg. It keeps one 12-byte nonce per readable aesgcm value in memory. A
// prefix outside the etcd prefix is refused (store.ErrOutsidePrefix).
func Scan(ctx context.Context, src store.Source, cfg *envelope.Config, o Options) (*Report, error) {
	var err error
	if o.EtcdPrefix, o.Prefix, err = store.Prefixes(o.EtcdPrefix, o.Prefix); err != nil {
		return nil, err
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 10000
	}
	if o.MaxExamples <= 0 {
		o.MaxExamples = 5
	}
	rep := &Report{Source: src.String(), Prefix: o.Prefix}
	resources := map[string]*Resource{}
	unresolved := map[string]*Unresolved{}
	keys := map[string]*Key{}
	type seen struct {
		first string
		reuse int // index in rep.NonceReuse + 1
	}
	nonces := map[string]map[[aead.GCMNonceSize]byte]*seen{}
	var kms kmsAudit
	var buf []byte
	err = src.Each(ctx, o.Prefix, func(kv store.KV) error {
		etcdKey := string(kv.Key)
		res, err := store.ResourceOf(etcdKey, o.EtcdPrefix)
		var ch *envelope.Chain
		if err == nil {
			ch, err = store.ChainFor(cfg, res)
		}
		if err != nil {
			seg := "(not a resource name)"
			if ue, ok := errors.AsType[*store.UnknownResourceError](err); ok {
				seg = ue.Segment
			}
			u := unresolved[seg]
			if u == nil {
				u = &Unresolved{Segment: seg, ByKey: map[string]int{}}
				unresolved[seg] = u
			}
			u.Values++
			u.Bytes += int64(len(kv.Value))
			u.ByKey[label(kv.Value, nil)]++
			if len(u.Examples) < o.MaxExamples {
				u.Examples = append(u.Examples, etcdKey)
			}
			return progress(rep, o)
		}
		r := resources[res.Name]
		if r == nil {
			r = &Resource{Resource: res.Name, Unencrypted: res.Unencrypted, ByKey: map[string]int{}, Examples: map[string][]string{}}
			r.chain = ch
			for _, e := range ch.Entries() {
				r.Chain = append(r.Chain, e.String())
			}
			r.Encrypted = ch.Entries()[0].Provider != envelope.Identity
			resources[res.Name] = r
		}
		example := func(what string) {
			if len(r.Examples[what]) < o.MaxExamples {
				r.Examples[what] = append(r.Examples[what], etcdKey)
			}
		}
		r.Values++
		r.Bytes += int64(len(kv.Value))

		var idx int
		var stale bool
		buf, idx, stale, err = r.chain.DecryptEntry(buf[:0], kv.Value, kv.Key)
		clear(buf)
		if k := kms.add(kv.Value, r.chain, idx); k != nil {
			switch {
			case err == nil:
				k.Read++
				if stale {
					k.Stale++
				}
			case errors.Is(err, envelope.ErrUnsupported):
				k.Unchecked++
			default:
				k.Unreadable++
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, envelope.ErrUnsupported):
			r.ByKey[label(kv.Value, r.chain)]++
			r.Unchecked++
			return progress(rep, o)
		default:
			r.ByKey[label(kv.Value, r.chain)]++
			r.Unreadable++
			example("unreadable")
			return progress(rep, o)
		}
		// Read: the entry that opened the value names it exactly.
		e := r.chain.Entries()[idx]
		name := e.String()
		r.ByKey[name]++
		if stale {
			r.Stale++
			example("stale")
		}
		if e.Provider == envelope.Identity && r.Encrypted {
			r.Plaintext++
			example("plaintext")
		}
		k := keys[name]
		if k == nil {
			k = &Key{Key: name}
			keys[name] = k
		}
		k.Values++
		if e.Provider == envelope.AESGCM {
			nonce := e.Layout().NonceOf(kv.Value[len(e.Prefix()):])
			if len(nonce) != aead.GCMNonceSize {
				return progress(rep, o)
			}
			m := nonces[name]
			if m == nil {
				m = map[[aead.GCMNonceSize]byte]*seen{}
				nonces[name] = m
			}
			n := [aead.GCMNonceSize]byte(nonce)
			switch s := m[n]; {
			case s == nil:
				m[n] = &seen{first: etcdKey}
			case s.reuse == 0:
				rep.NonceReuse = append(rep.NonceReuse, Reuse{Key: name, Nonce: hex.EncodeToString(n[:]), EtcdKeys: []string{s.first, etcdKey}})
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
	if s, ok := src.(interface{ Revision() int64 }); ok {
		rep.Revision = s.Revision()
	}
	if s, ok := src.(interface{ Verified() string }); ok {
		rep.Verified = s.Verified()
	}
	rep.Resources = make([]*Resource, 0, len(resources))
	t := &rep.Totals
	for _, r := range resources {
		if len(r.Examples) == 0 {
			r.Examples = nil
		}
		rep.Resources = append(rep.Resources, r)
		t.Values += r.Values
		t.Bytes += r.Bytes
		t.Plaintext += r.Plaintext
		t.Stale += r.Stale
		t.Unreadable += r.Unreadable
		t.Unchecked += r.Unchecked
	}
	slices.SortFunc(rep.Resources, func(a, b *Resource) int { return strings.Compare(a.Resource, b.Resource) })
	rep.Unresolved = []*Unresolved{}
	for _, u := range unresolved {
		rep.Unresolved = append(rep.Unresolved, u)
		t.Values += u.Values
		t.Bytes += u.Bytes
		t.Unresolved += u.Values
	}
	slices.SortFunc(rep.Unresolved, func(a, b *Unresolved) int { return strings.Compare(a.Segment, b.Segment) })
	if t.Unresolved > 0 {
		segs := make([]string, len(rep.Unresolved))
		for i, u := range rep.Unresolved {
			segs[i] = fmt.Sprintf("%s (%d)", quote(u.Segment), u.Values)
		}
		rep.Warnings = append(rep.Warnings, fmt.Sprintf(
			"%d values under key segments atrest cannot map to a resource, so it cannot tell whether they should be encrypted: %s; check them with atrest inspect --resource",
			t.Unresolved, strings.Join(segs, ", ")))
	}
	kms.finish(rep)
	if rep.Verified == store.VerifiedNone {
		rep.Warnings = append(rep.Warnings, "the snapshot carries no checksum (a member's db file?): its integrity is not verified; prefer etcdctl snapshot save output")
	}
	space := math.Ldexp(1, NonceBits)
	maxWrites := risk.MaxWrites(space, NonceRisk)
	for _, k := range keys {
		if strings.HasPrefix(k.Key, envelope.AESGCM+"/") {
			k.CollisionProbability = risk.Collision(float64(k.Values), space)
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

// label names the provider and key a value that no entry could read was
// written with: the configured entry its prefix matches if any (the
// configuration decides, whatever ':' the key names hold), else what
// envelope.ParsePrefix reads, with a trailing '?' when the name is
// ambiguous, or "unknown" for a k8s:enc: prefix it cannot parse.
func label(stored []byte, ch *envelope.Chain) string {
	if ch != nil {
		if m := ch.Match(stored); m.Index >= 0 {
			return m.Entry.String()
		}
	}
	p, err := envelope.ParsePrefix(stored)
	switch {
	case err != nil:
		return "unknown"
	case p.Ambiguous:
		return p.String() + "?"
	}
	return p.String()
}
