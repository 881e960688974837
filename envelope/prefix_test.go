package envelope_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/envelope/kmsv2"
	"github.com/atrest-dev/atrest/kmsplugin"
)

func TestParsePrefix(t *testing.T) {
	z := func(n int) string { return strings.Repeat("z", n) }
	for _, c := range []struct {
		in        string
		want      envelope.Prefix
		err       error
		ambiguous bool
	}{
		{in: "plain", want: envelope.Prefix{Provider: "identity"}},
		{in: "", want: envelope.Prefix{Provider: "identity"}},
		{in: "k8s:enc:aesgcm:v1:k1:" + z(28), want: envelope.Prefix{Provider: "aesgcm", Version: "v1", Name: "k1", Len: 21}},
		{in: "k8s:enc:secretbox:v1:s:" + z(40), want: envelope.Prefix{Provider: "secretbox", Version: "v1", Name: "s", Len: 23}},
		{in: "k8s:enc:kms:v2:plugin:" + z(5), want: envelope.Prefix{Provider: "kms", Version: "v2", Name: "plugin", Len: 22}},
		// A ':' in the payload of a KMS v2 value: plugin names have none.
		{in: "k8s:enc:kms:v2:p:a:b:" + z(5), want: envelope.Prefix{Provider: "kms", Version: "v2", Name: "p", Len: 17}},
		// aescbc: only "a:b" leaves an IV and whole blocks (32 bytes), but
		// "a" is possible (with a malformed payload).
		{in: "k8s:enc:aescbc:v1:a:b:" + z(32), want: envelope.Prefix{Provider: "aescbc", Version: "v1", Name: "a:b", Len: 22, Ambiguous: true}},
		// aesgcm: both "a" (payload "b:" + 28) and "a:b" (28) fit.
		{in: "k8s:enc:aesgcm:v1:a:b:" + z(28), want: envelope.Prefix{Provider: "aesgcm", Version: "v1", Name: "a", Len: 20, Ambiguous: true}},
		// With 26 bytes only "a" fits, but "a:b" is possible.
		{in: "k8s:enc:aesgcm:v1:a:b:" + z(26), want: envelope.Prefix{Provider: "aesgcm", Version: "v1", Name: "a", Len: 20, Ambiguous: true}},
		// No size fits: the first name, and the payload is malformed.
		{in: "k8s:enc:aesgcm:v1:k:xx", want: envelope.Prefix{Provider: "aesgcm", Version: "v1", Name: "k", Len: 20}},
		// A non-printable byte ends the search for longer names.
		{in: "k8s:enc:aesgcm:v1:a:\x01:" + z(28), want: envelope.Prefix{Provider: "aesgcm", Version: "v1", Name: "a", Len: 20}},
		{in: "k8s:enc:", err: envelope.ErrMalformedPrefix},
		{in: "k8s:enc:aesgcm", err: envelope.ErrMalformedPrefix},
		{in: "k8s:enc:aesgcm:v1:", err: envelope.ErrMalformedPrefix},
		{in: "k8s:enc:aesgcm:v1:noname", err: envelope.ErrMalformedPrefix},
		{in: "k8s:enc:aesgcm:v1::", err: envelope.ErrMalformedPrefix},
		{in: "k8s:enc:kms:v2::x", err: envelope.ErrMalformedPrefix},
		{in: "k8s:enc:kms:v1:old:" + z(9), want: envelope.Prefix{Provider: "kms", Version: "v1", Name: "old", Len: 19}, err: envelope.ErrUnknownProvider},
		{in: "k8s:enc:aesgcm:v2:k:" + z(28), want: envelope.Prefix{Provider: "aesgcm", Version: "v2", Name: "k", Len: 20}, err: envelope.ErrUnknownProvider},
	} {
		got, err := envelope.ParsePrefix([]byte(c.in))
		if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("ParsePrefix(%q): error %v, want %v", c.in, err, c.err)
			continue
		}
		if got != c.want {
			t.Errorf("ParsePrefix(%q) = %+v, want %+v", c.in, got, c.want)
		}
		if err == nil && got.Provider != "identity" && !strings.HasPrefix(c.in, envelope.EncryptedPrefix+got.Provider+":"+got.Version+":"+got.Name+":") {
			t.Errorf("ParsePrefix(%q): Len %d does not end the prefix", c.in, got.Len)
		}
	}
}

// TestParsePrefixColonNames: scan.Label split key names at the first ':'
// and read an aesgcm nonce 2 bytes off for key "a:b". With the
// configuration, the entry decides; without, ParsePrefix never reads a
// name silently wrong: either it is right or the prefix is marked
// ambiguous.
func TestParsePrefixColonNames(t *testing.T) {
	kr := keyring{"aesgcm/a": b64key(32), "aesgcm/a:b": b64key(32), "aescbc/c:d": b64key(32), "secretbox/s:t": b64key(32)}
	yaml := kr.yaml("", []string{"secrets"}, "aesgcm:a,a:b", "aescbc:c:d", "secretbox:s:t")
	kube := kubeSide(t, yaml, "secrets")
	ours := atrestSide(t, yaml, "secrets")
	cfg, err := envelope.ParseConfig([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := cfg.For("secrets")
	entries := ch.Entries()
	ad := []byte("/registry/secrets/ns/s")
	for i, want := range []string{"a", "a:b", "c:d", "s:t"} {
		// Write with kube-apiserver under a configuration whose write key is want.
		var provs []string
		for _, e := range entries {
			if e.Name == want {
				provs = append(provs, e.Provider+":"+e.Name)
			}
		}
		writer := kubeSide(t, kr.yaml("", []string{"secrets"}, provs...), "secrets")
		ambiguous, wrong := 0, 0
		for n := range 200 {
			pt := bytes.Repeat([]byte{byte(n)}, n)
			stored, err := writer.enc(pt, ad)
			if err != nil {
				t.Fatal(err)
			}
			got, idx, _, err := ch.DecryptEntry(nil, stored, ad)
			if err != nil || !bytes.Equal(got, pt) || entries[idx].Name != want {
				t.Fatalf("%s: DecryptEntry: entry %d, %v", want, idx, err)
			}
			if _, _, err := kube.dec(stored, ad); err != nil {
				t.Fatalf("%s: kube-apiserver cannot read it: %v", want, err)
			}
			if _, _, err := ours.dec(stored, ad); err != nil {
				t.Fatal(err)
			}
			e := entries[idx]
			nonce := e.Layout().NonceOf(stored[len(e.Prefix()):])
			if e.Provider != "aescbc" && !bytes.Equal(nonce, stored[len(e.Prefix()):][:len(nonce)]) || len(nonce) != e.Layout().Nonce {
				t.Fatalf("%s: nonce %x", want, nonce)
			}
			p, err := envelope.ParsePrefix(stored)
			switch {
			case err != nil:
				t.Fatalf("%s: %v", want, err)
			case p.Ambiguous:
				ambiguous++
			case p.Name != want:
				wrong++
			}
		}
		if wrong != 0 {
			t.Errorf("key %q: %d of 200 values silently read with the wrong name", want, wrong)
		}
		t.Logf("key %q (%s): %d of 200 values ambiguous without configuration", want, entries[i].Provider, ambiguous)
	}
}

// TestLayoutsMatchCiphers checks every layout against what the ciphers seal.
func TestLayoutsMatchCiphers(t *testing.T) {
	c, _ := cbc.New(key(32, 1))
	g, _ := aead.NewGCM(key(32, 2))
	s, _ := aead.NewSecretbox(key(32, 3))
	for _, x := range []struct {
		provider string
		c        envelope.Cipher
	}{{"aescbc", c}, {"aesgcm", g}, {"secretbox", s}, {"identity", envelope.IdentityCipher}} {
		l, ok := envelope.LayoutOf(x.provider)
		if !ok || l.Provider != x.provider || l.Variable {
			t.Fatalf("%s: layout %+v", x.provider, l)
		}
		for n := range 100 {
			out, err := x.c.Seal(nil, make([]byte, n), []byte("ad"))
			if err != nil {
				t.Fatal(err)
			}
			lo, hi, err := l.Plaintext(len(out))
			if err != nil || n < lo || n > hi || len(out)-n < l.Overhead() {
				t.Fatalf("%s: %d plaintext bytes sealed to %d: layout says %d..%d (%v), overhead %d", x.provider, n, len(out), lo, hi, err, l.Overhead())
			}
			if x.provider != "aescbc" && (lo != hi || len(out)-n != l.Overhead()) {
				t.Fatalf("%s: overhead %d, layout %d", x.provider, len(out)-n, l.Overhead())
			}
		}
		for _, n := range []int{0, l.Overhead() - 1} {
			if n < 0 || x.provider == "identity" {
				continue
			}
			if _, _, err := l.Plaintext(n); !errors.Is(err, envelope.ErrMalformedPayload) {
				t.Errorf("%s: %d-byte payload: %v", x.provider, n, err)
			}
			if _, err := x.c.Open(nil, make([]byte, n), []byte("ad")); err == nil {
				t.Errorf("%s: a %d-byte payload opened", x.provider, n)
			}
		}
	}
	if l, ok := envelope.LayoutOf("kms"); !ok || !l.Variable || l.Overhead() != 0 {
		t.Errorf("kms layout %+v", l)
	}
	if _, _, err := (envelope.Entry{Provider: "kms"}).Layout().Plaintext(100); err != nil {
		t.Errorf("kms layout, size alone: %v", err)
	}
	if _, ok := envelope.LayoutOf("nope"); ok {
		t.Error("layout of an unknown provider")
	}
}

// TestKMSLayout checks the KMS v2 layout against what a KMS v2 provider
// seals, for both DEK source types: PlaintextOf reads the payload and gives
// the plaintext size exactly, and a payload that does not parse, or whose
// data is shorter than its type's overhead, is malformed with kmsv2's
// sentinel.
func TestKMSLayout(t *testing.T) {
	l, _ := envelope.LayoutOf(envelope.KMSv2)
	for _, want := range []string{kmsv2.DataLayout(kmsv2.HKDFSeed), kmsv2.DataLayout(kmsv2.AESGCMKey)} {
		if !strings.Contains(l.Desc, want) {
			t.Errorf("kms layout %q does not say %q", l.Desc, want)
		}
	}
	pl, err := kmsplugin.NewWithKEKs(kmsplugin.Options{}, key(32, 9))
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []kmsv2.DEKSourceType{kmsv2.HKDFSeed, kmsv2.AESGCMKey} {
		p := kmsv2.New("p", pl, kmsv2.WithDEKSourceType(typ))
		for _, n := range []int{0, 1, 100, 5000} {
			v, err := p.Seal(nil, make([]byte, n), []byte("/registry/secrets/a/b"))
			if err != nil {
				t.Fatal(err)
			}
			lo, hi, err := l.PlaintextOf(v)
			if err != nil || lo != n || hi != n {
				t.Fatalf("%s, %d bytes: PlaintextOf = %d, %d, %v", typ, n, lo, hi, err)
			}
			o, _ := kmsv2.Parse(v)
			if len(o.EncryptedData)-n != kmsv2.Overhead(typ) {
				t.Fatalf("%s: data overhead %d, kmsv2.Overhead %d", typ, len(o.EncryptedData)-n, kmsv2.Overhead(typ))
			}
			// Data one byte shorter than the overhead.
			o.EncryptedData = o.EncryptedData[:kmsv2.Overhead(typ)-1]
			short, err := o.AppendMarshal(nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := l.PlaintextOf(short); !errors.Is(err, envelope.ErrMalformedPayload) || !errors.Is(err, kmsv2.ErrShortData) {
				t.Fatalf("%s: short data: %v", typ, err)
			}
		}
	}
	if _, _, err := l.PlaintextOf([]byte("not protobuf")); !errors.Is(err, envelope.ErrMalformedPayload) || !errors.Is(err, kmsv2.ErrMalformed) {
		t.Errorf("malformed payload: %v", err)
	}
	// Fixed layouts answer from the size, as Plaintext does.
	g, _ := envelope.LayoutOf(envelope.AESGCM)
	if lo, hi, err := g.PlaintextOf(make([]byte, 40)); lo != 12 || hi != 12 || err != nil {
		t.Errorf("aesgcm PlaintextOf(40) = %d, %d, %v", lo, hi, err)
	}
}

// TestParsePrefixAgreesWithMatch: for random values under configured keys,
// whenever ParsePrefix is not ambiguous it names the entry Chain.Match
// finds.
func TestParsePrefixAgreesWithMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g, _ := aead.NewGCM(key(16, 1))
	c, _ := cbc.New(key(16, 2))
	ch := mustChain(t,
		envelope.Entry{Provider: envelope.AESGCM, Name: "x:y", Cipher: g},
		envelope.Entry{Provider: envelope.AESCBC, Name: "k", Cipher: c},
		envelope.Entry{Provider: envelope.Identity, Cipher: envelope.IdentityCipher})
	for i := range 2000 {
		stored := make([]byte, r.IntN(80))
		for j := range stored {
			stored[j] = byte(r.IntN(256))
			if r.IntN(8) == 0 {
				stored[j] = ':'
			}
		}
		switch i % 3 {
		case 0:
			stored = append([]byte("k8s:enc:aesgcm:v1:x:y:"), stored...)
		case 1:
			stored = append([]byte("k8s:enc:aescbc:v1:k:"), stored...)
		}
		m := ch.Match(stored)
		p, err := envelope.ParsePrefix(stored)
		if m.Index < 0 || err != nil {
			t.Fatalf("%q: match %d, parse %v", stored, m.Index, err)
		}
		if !p.Ambiguous && p.String() != m.Entry.String() {
			t.Errorf("%q: ParsePrefix %s, Match %s", stored, p, m.Entry)
		}
		if m.Layout.Provider != m.Entry.Provider {
			t.Errorf("match layout %+v for %s", m.Layout, m.Entry)
		}
	}
}

func TestIdentityChain(t *testing.T) {
	cfg, err := envelope.ParseConfig([]byte("kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	none, _ := cfg.For("configmaps")
	configured, _ := cfg.For("secrets")
	if none != envelope.IdentityChain() || configured == envelope.IdentityChain() {
		t.Fatal("For: an unmatched resource must get IdentityChain(), a configured identity rule its own chain")
	}
	if es := none.Entries(); len(es) != 1 || es[0].Provider != envelope.Identity {
		t.Fatalf("identity chain %v", es)
	}
}
