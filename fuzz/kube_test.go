package fuzz_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/storage/value"

	"github.com/atrest-dev/atrest/envelope"
)

// Rules for the differential targets (the README's Fuzzing section repeats them):
//
//  1. atrest must agree with the model (SPEC §1–§5 over the standard
//     library and x/crypto) on every read: accept/reject, plaintext, stale.
//     Any difference fails the target: that is atrest's fault.
//  2. atrest and the peer must agree on accept/reject, plaintext and stale.
//     When they do not, the model decides: if atrest agrees with the model
//     (rule 1 already checked it), the disagreement is the peer's and is
//     recorded as a finding, not a failure.
//  3. A panic in the peer is always the peer's fault: recorded, not failed.
//  4. For configuration files, where no independent model exists, the peer's
//     loader is the reference: a different accept/reject fails, a panic in
//     the peer's loader is recorded.

// readDesc summarises a read for comparisons and findings.
func readDesc(ok bool, plain []byte, stale bool) string {
	if !ok {
		return "reject"
	}
	return fmt.Sprintf("accept(stale=%v, %q)", stale, short(plain))
}

// matchedProviders names the encrypting providers whose prefix starts stored,
// for a finding's class.
func matchedProviders(entries []modelEntry, stored []byte) string {
	var out []string
	for _, e := range entries {
		if e.provider != envelope.Identity && bytes.HasPrefix(stored, []byte(e.prefix())) && !contains2(out, e.provider) {
			out = append(out, e.provider)
		}
	}
	if len(out) == 0 {
		return "no encrypting prefix"
	}
	return strings.Join(out, ",")
}

func contains2(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// compareRead reads stored with atrest's chain (checked against the model on
// every implementation) and with the peer's transformer and applies the
// rules above. It returns the model's (and so atrest's) answer.
func compareRead(t *testing.T, target, where string, ch *envelope.Chain, tr value.Transformer, entries []modelEntry, stored, ad []byte, input [][]byte) modelResult {
	t.Helper()
	m := checkChainDecrypt(t, ch, entries, stored, ad) // rule 1
	k := kubeRead(tr, stored, ad)
	atrest := readDesc(m.ok, m.plain, m.stale)
	sides := []string{
		"where: " + where,
		"stored (hex): " + fmt.Sprintf("%x", stored),
		"atrest and the model: " + atrest,
		"kubernetes: " + k.String(),
	}
	switch {
	case k.panicked: // rule 3
		recordFinding(t, target, fmt.Sprintf("peer panics reading a value for %s: %s", matchedProviders(entries, stored), k.panicMsg), input, sides...)
	case atrest != readDesc(k.err == nil, k.out, k.stale): // rule 2
		recordFinding(t, target, fmt.Sprintf("peer %s where atrest and the model %s (%s)",
			readKind(k.err == nil, k.stale), readKind(m.ok, m.stale), matchedProviders(entries, stored)), input, sides...)
	}
	return m
}

func readKind(ok, stale bool) string {
	switch {
	case !ok:
		return "rejects"
	case stale:
		return "reads stale"
	}
	return "reads"
}

// FuzzKubeDecrypt gives the same stored bytes and etcd key to atrest's
// chain and to kube-apiserver's transformers for the same fixed
// configuration and demands the same accept/reject, stale and plaintext.
func FuzzKubeDecrypt(f *testing.F) {
	f.Fuzz(func(t *testing.T, cfgSel uint8, stored, ad []byte) {
		i, conf := pickConfig(cfgSel)
		chains, trs := fixedChains(t)
		compareRead(t, "FuzzKubeDecrypt", fmt.Sprintf("fixed config %d, resource %s", i, fixedResource),
			chains[i], trs[i], conf.entries(), stored, ad, [][]byte{{cfgSel}, stored, ad})
	})
}

// FuzzKubeEncrypt writes the same plaintext under one fixed configuration
// with atrest and with kube-apiserver and reads both values under a second
// configuration (the same one, or a rotation of it) with both. Writes must
// agree on success; a value written by either side under a configuration
// must read back under it, not stale, by both.
func FuzzKubeEncrypt(f *testing.F) {
	f.Fuzz(func(t *testing.T, wSel, rSel uint8, pt, ad []byte) {
		wi, wconf := pickConfig(wSel)
		ri, rconf := pickConfig(rSel)
		chains, trs := fixedChains(t)
		input := [][]byte{{wSel}, {rSel}, pt, ad}

		wa, aerr := chains[wi].Encrypt(nil, pt, ad)
		wk := kubeWrite(trs[wi], pt, ad)
		if wk.panicked {
			recordFinding(t, "FuzzKubeEncrypt", "peer panics writing: "+wk.panicMsg, input, "kubernetes: "+wk.String())
			return
		}
		if (aerr == nil) != (wk.err == nil) {
			t.Fatalf("config %d: atrest write err = %v, kubernetes write err = %v", wi, aerr, wk.err)
		}
		if aerr != nil {
			return // both refuse to write: a KMS write entry without its plugin
		}
		clash := wconf.entries()[0].provider == envelope.Identity && bytes.HasPrefix(pt, []byte(envelope.EncryptedPrefix))
		for _, w := range []struct {
			by     string
			stored []byte
		}{{"atrest", wa}, {"kubernetes", wk.out}} {
			// Under the writing configuration: both read it back, not stale.
			m := compareRead(t, "FuzzKubeEncrypt", fmt.Sprintf("written by %s under fixed config %d, read under it", w.by, wi),
				chains[wi], trs[wi], wconf.entries(), w.stored, ad, input)
			if !clash && (!m.ok || m.stale || !bytes.Equal(m.plain, pt)) {
				t.Fatalf("written by %s under config %d: read back %s", w.by, wi, readDesc(m.ok, m.plain, m.stale))
			}
			if !clash {
				if k := kubeRead(trs[wi], w.stored, ad); k.err != nil || k.panicked || k.stale || !bytes.Equal(k.out, pt) {
					t.Fatalf("written by %s under config %d: kubernetes reads back %s", w.by, wi, k)
				}
			}
			// Under the other configuration: whatever the model says, both.
			compareRead(t, "FuzzKubeEncrypt", fmt.Sprintf("written by %s under fixed config %d, read under fixed config %d", w.by, wi, ri),
				chains[ri], trs[ri], rconf.entries(), w.stored, ad, input)
		}
	})
}

// FuzzKubeParseConfig gives the same bytes to envelope.ParseConfig and to
// kube-apiserver's LoadEncryptionConfig: the same accept/reject (rule 4).
// When both accept, every resource rule's chains must read what the other
// side writes.
func FuzzKubeParseConfig(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, aerr := envelope.ParseConfig(data)
		m, kerr, panicMsg := kubeLoadSafe(data)
		if panicMsg != "" {
			recordFinding(t, "FuzzKubeParseConfig", "peer panics loading a configuration: "+panicMsg, [][]byte{data},
				fmt.Sprintf("atrest: err = %v", aerr), "kubernetes: panicked: "+panicMsg)
			return
		}
		if (aerr == nil) != (kerr == nil) {
			t.Fatalf("configuration %q:\natrest: %v\nkubernetes: %v", data, aerr, kerr)
		}
		if aerr != nil {
			return
		}
		ad := []byte("/registry/fuzz/ns/name")
		pt := []byte("a value written by one side and read by the other")
		for _, r := range cfg.Resources() {
			res := exampleResource(r)
			ch, err := cfg.For(res)
			if err != nil && strings.ContainsAny(res, unnameable) {
				continue // both loaders accept the rule; no resource has its name
			}
			if err != nil {
				t.Fatal(err)
			}
			tr := m.For(res)
			wa, aerr := ch.Encrypt(nil, pt, ad)
			wk := kubeWrite(tr, pt, ad)
			if (aerr == nil) != (wk.err == nil) || wk.panicked {
				t.Fatalf("rule %q: atrest write err = %v, kubernetes write: %s", r, aerr, wk)
			}
			if aerr != nil {
				continue
			}
			if got, stale, err := ch.Decrypt(nil, wk.out, ad); err != nil || stale || !bytes.Equal(got, pt) {
				t.Fatalf("rule %q: atrest reads the peer's value: %q stale=%v %v", r, got, stale, err)
			}
			if k := kubeRead(tr, wa, ad); k.err != nil || k.panicked || k.stale || !bytes.Equal(k.out, pt) {
				t.Fatalf("rule %q: the peer reads atrest's value: %s", r, k)
			}
		}
	})
}
