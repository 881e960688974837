package fuzz_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/envelope/kmsv2"
)

// primitiveErrors are the sentinels a matched entry's failure may carry.
var primitiveErrors = []error{
	cbc.ErrTooShort, cbc.ErrBlockSize, cbc.ErrPadding,
	aead.ErrTooShort, aead.ErrAuth, envelope.ErrUnsupported,
	// A KMS v2 payload that does not parse fails before the plugin is asked.
	kmsv2.ErrMalformed, kmsv2.ErrDEKSourceType, kmsv2.ErrEmptyData, kmsv2.ErrDEKSource, kmsv2.ErrKeyID, kmsv2.ErrAnnotations,
}

// checkChainDecrypt decrypts stored with ch under every variant of the three
// primitive packages and checks it against the model read of entries: the
// same accept/reject, plaintext and stale; an error XOR a plaintext;
// ErrNoMatch exactly when no encrypting entry's prefix matched, otherwise the
// failing primitives' sentinels; a failed Decrypt leaves dst and its spare
// capacity alone; no more allocated than the stored value for an encrypting
// entry; and Match agreeing with the entry that read the value. It returns
// the model's answer.
func checkChainDecrypt(t *testing.T, ch *envelope.Chain, entries []modelEntry, stored, ad []byte) modelResult {
	t.Helper()
	m := modelDecrypt(entries, stored, ad)
	for _, v := range variants("cbc", "gcm", "secretbox") {
		v.with(t, func() {
			out, stale, err := ch.Decrypt(nil, stored, ad)
			switch {
			case err != nil && (out != nil || stale):
				t.Fatalf("%s: Decrypt returned an error (%v) and %d bytes, stale=%v", v, err, len(out), stale)
			case m.ok != (err == nil):
				t.Fatalf("%s: Decrypt(%q) err = %v, the model says accept = %v", v, short(stored), err, m.ok)
			case m.ok && (!bytes.Equal(out, m.plain) || stale != m.stale):
				t.Fatalf("%s: Decrypt(%q) = %q stale=%v, the model says %q stale=%v", v, short(stored), short(out), stale, short(m.plain), m.stale)
			case !m.ok && !m.matched && !errors.Is(err, envelope.ErrNoMatch):
				t.Fatalf("%s: Decrypt(%q) err = %v, want ErrNoMatch", v, short(stored), err)
			case !m.ok && m.matched && (errors.Is(err, envelope.ErrNoMatch) || !isOneOf(err, primitiveErrors...)):
				t.Fatalf("%s: Decrypt(%q) err = %v, want the matched entries' sentinel errors", v, short(stored), err)
			case m.ok && entries[m.entry].provider != envelope.Identity && cap(out) > len(stored):
				t.Fatalf("%s: Decrypt allocated %d bytes for a %d-byte value", v, cap(out), len(stored))
			}
			d := withSpare(len(stored))
			out, _, err = ch.Decrypt(d, stored, ad)
			switch {
			case err != nil && (len(out) != len(dstPrefix) || !spareIsZero(out)):
				t.Fatalf("%s: failed Decrypt changed dst or left bytes in its spare capacity", v)
			case !bytes.Equal(out[:len(dstPrefix)], dstPrefix) || &out[0] != &d[0]:
				t.Fatalf("%s: Decrypt with room in dst did not append in place", v)
			case err == nil && !bytes.Equal(out[len(dstPrefix):], m.plain):
				t.Fatalf("%s: Decrypt appended the wrong plaintext", v)
			}
		})
	}
	mt := ch.Match(stored)
	switch {
	case mt.Index < 0 && (m.ok || m.matched):
		t.Fatalf("Match(%q) found nothing but an entry read or tried it", short(stored))
	case m.ok && mt.Index != m.entry && !contains(mt.Others, m.entry):
		t.Fatalf("Match(%q) = %d %v, but entry %d read it", short(stored), mt.Index, mt.Others, m.entry)
	case m.ok && len(mt.Others) == 0 && mt.Stale() != m.stale:
		t.Fatalf("Match(%q).Stale() = %v, Decrypt says %v", short(stored), mt.Stale(), m.stale)
	}
	return m
}

func contains(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// FuzzChainDecrypt feeds arbitrary stored values and etcd keys to the chains
// of the fixed configurations (every provider and key size, rotations,
// identity first and last, duplicate key names, nested ':' names, KMS) and
// checks Decrypt against the model on every implementation. It then
// encrypts the input as a plaintext and checks that the chain reads it
// back, not stale.
func FuzzChainDecrypt(f *testing.F) {
	f.Fuzz(func(t *testing.T, cfgSel uint8, stored, ad []byte) {
		i, conf := pickConfig(cfgSel)
		chains, _ := fixedChains(t)
		ch, entries := chains[i], conf.entries()
		checkChainDecrypt(t, ch, entries, stored, ad)

		w, err := ch.Encrypt(nil, stored, ad)
		if entries[0].provider == envelope.KMSv2 {
			if !errors.Is(err, envelope.ErrUnsupported) || w != nil {
				t.Fatalf("config %d: Encrypt with a KMS write entry = %d bytes, %v; want ErrUnsupported", i, len(w), err)
			}
			return
		}
		if err != nil || !strings.HasPrefix(string(w), entries[0].prefix()) {
			t.Fatalf("config %d: Encrypt = %q, %v", i, short(w), err)
		}
		m := checkChainDecrypt(t, ch, entries, w, ad)
		clash := entries[0].provider == envelope.Identity && bytes.HasPrefix(stored, []byte(envelope.EncryptedPrefix))
		if !clash && (!m.ok || m.stale || !bytes.Equal(m.plain, stored)) {
			t.Fatalf("config %d: round trip of %q: accept=%v stale=%v", i, short(stored), m.ok, m.stale)
		}
	})
}

// secretValue finds the values of secret fields in a configuration (YAML
// "secret: v", JSON "secret":"v"), to check that no error quotes them. A
// plain "secret:v" is one YAML scalar, not a field and its value.
var secretValue = regexp.MustCompile(`(?m)(?:(?:^|[\s{,\-])secret\s*:\s+|"secret"\s*:\s*)["']?([A-Za-z0-9+/=]{6,})`)

// wholeKey reports whether v is the base64 of a 16-, 24- or 32-byte key.
func wholeKey(v []byte) bool {
	k, err := base64.StdEncoding.DecodeString(string(v))
	return err == nil && (len(k) == 16 || len(k) == 24 || len(k) == 32)
}

// unnameable are the characters no resource name has: For refuses a
// resource with one of them ('*' only in rules).
const unnameable = "* \t\n/"

// exampleResource turns a resource rule into a resource that For accepts
// and that the rule covers.
func exampleResource(rule string) string {
	switch {
	case rule == "*.*":
		return "fuzzresources.example.com"
	case rule == "*.":
		return "fuzzresources"
	case strings.HasPrefix(rule, "*."):
		return "fuzzresources" + rule[1:]
	}
	return rule
}

// FuzzParseConfig feeds arbitrary bytes to envelope.ParseConfig: no panic; a
// configuration XOR an error; every error a *ConfigError matching
// ErrInvalidConfig that quotes no secret; the same answer twice; and for an
// accepted configuration, a chain for every resource rule that reads back
// what it writes.
func FuzzParseConfig(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := envelope.ParseConfig(data)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("ParseConfig returned config %v and error %v", cfg != nil, err)
		}
		cfg2, err2 := envelope.ParseConfig(data)
		if (cfg2 == nil) != (cfg == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("ParseConfig is not deterministic: %v / %v", err, err2)
		}
		if err != nil {
			if _, ok := errors.AsType[*envelope.ConfigError](err); !ok || !errors.Is(err, envelope.ErrInvalidConfig) {
				t.Fatalf("ParseConfig error %T %v is not a *ConfigError matching ErrInvalidConfig", err, err)
			}
			for _, m := range secretValue.FindAllSubmatchIndex(data, -1) {
				v := data[m[2]:m[3]]
				// A value that also occurs elsewhere in the file (say, in
				// a field name) may be quoted for that other occurrence. A
				// token followed by ':' is a key, not secret's value
				// ("secret:" in a comment, then "Abcdef: 1" on the next
				// line): it may be quoted as an unknown field unless it is
				// a whole AES or secretbox key in base64.
				if bytes.HasPrefix(bytes.TrimLeft(data[m[3]:], " \t"), []byte(":")) && !wholeKey(v) {
					continue
				}
				if bytes.Count(data, v) == 1 && strings.Contains(err.Error(), string(v)) {
					t.Fatalf("ParseConfig error quotes a secret: %v", err)
				}
			}
			return
		}
		rules := cfg.Resources()
		if len(rules) == 0 {
			t.Fatal("accepted configuration without resources")
		}
		ad := []byte("/registry/fuzz/ns/name")
		for _, r := range rules {
			ch, err := cfg.For(exampleResource(r))
			if err != nil && strings.ContainsAny(exampleResource(r), unnameable) {
				// kube-apiserver's loader accepts a rule such as
				// "secre\" ts"; no resource has that name, so For refuses it.
				continue
			}
			if err != nil {
				t.Fatalf("For(%q) for rule %q: %v", exampleResource(r), r, err)
			}
			es := ch.Entries()
			if len(es) == 0 {
				t.Fatalf("rule %q: empty chain", r)
			}
			pt := []byte("a fuzzed configuration's value")
			w, err := ch.Encrypt(nil, pt, ad)
			if es[0].Provider == envelope.KMSv2 {
				if !errors.Is(err, envelope.ErrUnsupported) {
					t.Fatalf("rule %q: KMS write entry: %v", r, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("rule %q: Encrypt: %v", r, err)
			}
			got, stale, err := ch.Decrypt(nil, w, ad)
			if err != nil || stale || !bytes.Equal(got, pt) {
				t.Fatalf("rule %q (%s): round trip: %q stale=%v %v", r, es[0], got, stale, err)
			}
		}
	})
}
