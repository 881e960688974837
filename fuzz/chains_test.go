package fuzz_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"sigs.k8s.io/randfill"

	"github.com/atrest-dev/atrest/envelope"
)

// chainsSpec is what randfill generates from the fuzzer's bytes for
// FuzzChains: a starting configuration, key sizes and a sequence of
// rotation steps.
type chainsSpec struct {
	Legacy    bool
	Sizes     [3][len(namePool)]uint8 // key size per (provider kind, name)
	Providers []provSpec
	Rotations []rotSpec
	AD        uint8
}

type provSpec struct {
	Kind  uint8   // identity, aescbc, aesgcm, secretbox
	Names []uint8 // indexes into namePool
}

type rotSpec struct{ Op, A, B uint8 }

// namePool holds the key names: plain, nested ("key" is a prefix of "key:4"
// once the ':' separator is added) and ending in ':'.
var namePool = [...]string{"k1", "k2", "k3", "key:4", "key", "k:"}

var kinds = [...]string{envelope.Identity, envelope.AESCBC, envelope.AESGCM, envelope.Secretbox}

// keyFor is the one key a (kind, name) has for the whole run, so a value is
// readable exactly while its key is in the configuration.
func (s *chainsSpec) keyFor(kind int, name uint8) keyDef {
	n := namePool[int(name)%len(namePool)]
	size := 32
	if kinds[kind] != envelope.Secretbox {
		size = aesKeySizes[int(s.Sizes[kind-1][int(name)%len(namePool)])%3]
	}
	return keyDef{n, detKey(fmt.Sprintf("chains/%s/%s/%d", kinds[kind], n, size), size)}
}

func (s *chainsSpec) prov(kind int, names []uint8) provDef {
	kind %= len(kinds)
	if kind == 0 {
		return identityProv
	}
	p := provDef{Kind: kinds[kind]}
	for _, n := range names {
		p.Keys = append(p.Keys, s.keyFor(kind, n))
	}
	return p
}

// rotate applies one step to a copy of provs; the steps are those of an
// administrator rotating keys or migrating between providers.
func (s *chainsSpec) rotate(provs []provDef, r rotSpec) []provDef {
	provs = slices.Clone(provs)
	a := int(r.A) % len(provs)
	p := provs[a]
	p.Keys = slices.Clone(p.Keys)
	kind := slices.Index(kinds[:], p.Kind)
	switch r.Op % 7 {
	case 0: // add a new key in front: the first step of a rotation
		if kind > 0 {
			p.Keys = append([]keyDef{s.keyFor(kind, r.B)}, p.Keys...)
		}
	case 1: // make an existing key the write key
		if len(p.Keys) > 1 {
			b := int(r.B) % len(p.Keys)
			k := p.Keys[b]
			p.Keys = append([]keyDef{k}, slices.Delete(p.Keys, b, b+1)...)
		}
	case 2: // drop the last key: the end of a rotation
		if len(p.Keys) > 1 {
			p.Keys = p.Keys[:len(p.Keys)-1]
		}
	case 3: // make a provider the write provider
		provs = append([]provDef{p}, slices.Delete(provs, a, a+1)...)
		return provs
	case 4: // decrypt everything: identity in front
		return append([]provDef{identityProv}, provs...)
	case 5: // drop a provider
		if len(provs) > 1 {
			return slices.Delete(provs, a, a+1)
		}
	case 6: // migrate to a new provider
		return append([]provDef{s.prov(1+int(r.B)%3, []uint8{r.A})}, provs...)
	}
	provs[a] = p
	return provs
}

// stored is a value in etcd and what was written.
type storedValue struct {
	by, when string
	data, pt []byte
	clash    bool // identity wrote a plaintext that starts with k8s:enc:
}

// FuzzChains is the structured target: randfill turns the fuzzer's bytes into
// a configuration (providers, key counts, key sizes, nested and ':' names,
// the legacy kind) and a sequence of rotations. At every step both atrest
// and kube-apiserver load the configuration, read every value written so far
// by either (the differential rules of FuzzKubeDecrypt, and a value written
// with an encrypting key reads back to its plaintext), rewrite the values
// they read as stale as kube-apiserver would, and write a new value each.
func FuzzChains(f *testing.F) {
	f.Fuzz(func(t *testing.T, data, pt []byte) {
		var spec chainsSpec
		randfill.NewFromGoFuzz(data).NilChance(0).NumElements(1, 4).Fill(&spec)
		var provs []provDef
		for _, p := range spec.Providers {
			provs = append(provs, spec.prov(int(p.Kind), p.Names))
		}
		ad := fmt.Appendf(nil, "/registry/secrets/ns/v%d", spec.AD%3)
		var values []storedValue
		for step := 0; step <= len(spec.Rotations); step++ {
			if step > 0 {
				provs = spec.rotate(provs, spec.Rotations[step-1])
			}
			conf := confDef{Legacy: spec.Legacy, Resources: []string{"secrets"}, Providers: provs}
			y := conf.yaml()
			ch, err := atrestChain(y, "secrets")
			if err != nil {
				t.Fatalf("step %d: atrest refuses a valid configuration: %v\n%s", step, err, y)
			}
			m, err := kubeLoad([]byte(y))
			if err != nil {
				t.Fatalf("step %d: kubernetes refuses the configuration: %v\n%s", step, err, y)
			}
			tr := m.For("secrets")
			entries := conf.entries()
			input := [][]byte{data, pt}
			for i, v := range values {
				where := fmt.Sprintf("value written by %s at %s, read at step %d", v.by, v.when, step)
				r := compareRead(t, "FuzzChains", where+"\n"+y, ch, tr, entries, v.data, ad, input)
				if r.ok && !v.clash && !bytes.Equal(r.plain, v.pt) {
					t.Fatalf("%s: wrong plaintext %q", where, short(r.plain))
				}
				if r.ok && r.stale { // kube-apiserver rewrites stale values on update
					w, err := ch.Encrypt(nil, r.plain, ad)
					if err != nil {
						t.Fatalf("step %d: rewrite: %v", step, err)
					}
					values[i] = storedValue{"atrest", fmt.Sprintf("step %d (rewrite)", step), w, r.plain,
						entries[0].provider == envelope.Identity && bytes.HasPrefix(r.plain, []byte(envelope.EncryptedPrefix))}
				}
			}
			clash := entries[0].provider == envelope.Identity && bytes.HasPrefix(pt, []byte(envelope.EncryptedPrefix))
			wa, err := ch.Encrypt(nil, pt, ad)
			if err != nil {
				t.Fatalf("step %d: atrest write: %v", step, err)
			}
			wk := kubeWrite(tr, pt, ad)
			if wk.err != nil || wk.panicked {
				t.Fatalf("step %d: kubernetes write: %s", step, wk)
			}
			when := fmt.Sprintf("step %d", step)
			values = append(values, storedValue{"atrest", when, wa, pt, clash}, storedValue{"kubernetes", when, wk.out, pt, clash})
		}
	})
}
