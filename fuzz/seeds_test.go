package fuzz_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/cryptotest"

	"golang.org/x/crypto/nacl/secretbox"
	"k8s.io/apiserver/pkg/storage/value"
	kaes "k8s.io/apiserver/pkg/storage/value/encrypt/aes"
	ksecretbox "k8s.io/apiserver/pkg/storage/value/encrypt/secretbox"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/envelope"
)

var update = flag.Bool("update", false, "rewrite the seed corpora under testdata/fuzz")

// TestSeedCorpus regenerates the seed corpora of every target and checks
// that testdata/fuzz holds them byte for byte (crypto/rand is made
// deterministic with cryptotest.SetGlobalRandom, so atrest's and the peer's
// real encrypted values come out the same every time). With -update it
// writes them. Files in testdata/fuzz that the generator does not make (the
// fuzzer's own failing inputs, kept as regression tests) are left alone.
//
//	go test ./fuzz -run TestSeedCorpus -update
func TestSeedCorpus(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 4)
	writeSeeds(t, seedCorpus(t))
}

// writeSeeds writes (with -update) or checks the corpus entries of each
// target under testdata/fuzz/<target>, each file named by the first 8 bytes
// of its SHA-256.
func writeSeeds(t *testing.T, seeds map[string][][]any) {
	for target, entries := range seeds {
		dir := filepath.Join("testdata", "fuzz", target)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range entries {
			content := marshalCorpus(e...)
			h := sha256.Sum256(content)
			name := filepath.Join(dir, hex.EncodeToString(h[:8]))
			if *update {
				if err := os.WriteFile(name, content, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(name)
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("%s: seed corpus out of date (%v): run go test ./fuzz -run '^%s$' -update", name, err, t.Name())
			}
		}
	}
}

// marshalCorpus writes one input in the "go test fuzz v1" format.
func marshalCorpus(args ...any) []byte {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch a := a.(type) {
		case uint8:
			fmt.Fprintf(&b, "byte(%q)\n", a)
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", a)
		default:
			panic(fmt.Sprintf("seed type %T", a))
		}
	}
	return []byte(b.String())
}

// seedPlaintexts are the plaintexts real values are made of: empty, short,
// block-sized, a protobuf-looking object, JSON, and one that starts with
// the encrypted prefix.
var seedPlaintexts = [][]byte{
	{}, []byte("x"), []byte("0123456789abcde"), []byte("0123456789abcdef"), []byte("0123456789abcdef0"),
	[]byte("k8s\x00\n\x0c\n\x02v1\x12\x06Secret\x12\x1d\n\x0b\n\x02s1\x12\x07default\x1a\x0e\n\x03key\x12\x07value!!"),
	[]byte(`{"kind":"Secret","apiVersion":"v1","data":{"k":"dg=="}}`),
	[]byte("k8s:enc:aescbc:v1:k1:not really encrypted"),
}

var seedADs = [][]byte{[]byte("/registry/secrets/default/s1"), {}}

// cbcRaw encrypts blocks (already padded, or deliberately not) with a zero IV.
func cbcRaw(key, blocks []byte) []byte {
	b, _ := aes.NewCipher(key)
	out := make([]byte, 16+len(blocks))
	cipher.NewCBCEncrypter(b, out[:16]).CryptBlocks(out[16:], blocks)
	return out
}

func kubeRaw(tr value.Transformer, pt, ad []byte) []byte {
	out, err := tr.TransformToStorage(context.Background(), pt, value.DefaultContext(ad))
	if err != nil {
		panic(err)
	}
	return out
}

func seedCorpus(t *testing.T) map[string][][]any {
	s := map[string][][]any{}
	add := func(target string, args ...any) { s[target] = append(s[target], args) }

	// Primitives: real values by atrest and by the peer's transformers,
	// then edge cases.
	for sel := uint8(0); sel < 3; sel++ {
		key := cbcKey(sel)
		c, _ := cbc.New(key)
		b, _ := aes.NewCipher(key)
		kc := kaes.NewCBCTransformer(b)
		for _, pt := range seedPlaintexts[:5] {
			v, _ := c.Seal(nil, pt, nil)
			add("FuzzCBCOpen", sel, v)
			add("FuzzCBCOpen", sel, kubeRaw(kc, pt, nil))
		}
		v, _ := c.Seal(nil, []byte("0123456789abcdef"), nil)
		pad32 := bytes.Repeat([]byte{32}, 32)
		for _, e := range [][]byte{
			{}, make([]byte, 15), make([]byte, 16) /* IV only */, make([]byte, 31), make([]byte, 33),
			v[:len(v)-1], v[:len(v)-16], v[:32], append(v, 0),
			cbcRaw(key, pad32), // padding 32 > 16: valid for both
			cbcRaw(key, append(bytes.Repeat([]byte{'a'}, 15), 0)),            // padding 0
			cbcRaw(key, append(bytes.Repeat([]byte{'a'}, 15), 17)),           // padding > length
			cbcRaw(key, append(bytes.Repeat([]byte{'a'}, 29), 3, 4, 3)),      // one bad padding byte
			cbcRaw(key, append(bytes.Repeat([]byte{'a'}, 31), 1)),            // minimal padding
			cbcRaw(key, append(bytes.Repeat([]byte{16}, 16), pad32[:16]...)), // a whole padding block
		} {
			add("FuzzCBCOpen", sel, e)
		}

		gkey := gcmKey(sel)
		g, _ := aead.NewGCM(gkey)
		kg, _ := kaes.NewGCMTransformer(mustBlock(gkey))
		for _, pt := range seedPlaintexts[:6] {
			for _, ad := range seedADs {
				v, _ := g.Seal(nil, pt, ad)
				add("FuzzGCMOpen", sel, v, ad)
				add("FuzzGCMOpen", sel, kubeRaw(kg, pt, ad), ad)
			}
		}
		v, _ = g.Seal(nil, []byte("value"), seedADs[0])
		for _, e := range [][]byte{{}, make([]byte, 12), make([]byte, 27), make([]byte, 28), v[:len(v)-1], v[:len(v)-16], append(v, 0)} {
			add("FuzzGCMOpen", sel, e, seedADs[0])
		}
		add("FuzzGCMOpen", sel, v, []byte("/registry/secrets/default/s2")) // moved value
	}
	for sel := uint8(0); sel < 2; sel++ {
		key := detKey(fmt.Sprintf("secretbox/%d", sel), 32)
		sb, _ := aead.NewSecretbox(key)
		ks := ksecretbox.NewSecretboxTransformer([32]byte(key))
		for _, pt := range seedPlaintexts[:6] {
			v, _ := sb.Seal(nil, pt, nil)
			add("FuzzSecretboxOpen", sel, v)
			add("FuzzSecretboxOpen", sel, kubeRaw(ks, pt, nil))
		}
		v, _ := sb.Seal(nil, []byte("value"), nil)
		nonce := [24]byte{}
		for _, e := range [][]byte{{}, make([]byte, 24), make([]byte, 39), make([]byte, 40), v[:len(v)-1], v[:40], append(v, 0),
			append(nonce[:], secretbox.Seal(nil, nil, &nonce, (*[32]byte)(key))...)} {
			add("FuzzSecretboxOpen", sel, e)
		}
	}

	// Chains: real values of every fixed configuration by both sides, read
	// under their own configuration and the next, and edge cases.
	chains, trs := fixedChains(t)
	for i := range fixedConfigs {
		sel, next := uint8(i), uint8((i+1)%len(fixedConfigs))
		for k, pt := range seedPlaintexts {
			ad := seedADs[k%2]
			if w, err := chains[i].Encrypt(nil, pt, ad); err == nil {
				add("FuzzChainDecrypt", sel, w, ad)
				add("FuzzKubeDecrypt", sel, w, ad)
				add("FuzzKubeDecrypt", next, w, ad)
			}
			if w := kubeWrite(trs[i], pt, ad); w.err == nil {
				add("FuzzChainDecrypt", sel, w.out, ad)
				add("FuzzKubeDecrypt", sel, w.out, ad)
			}
			if k < 4 {
				add("FuzzKubeEncrypt", sel, next, pt, ad)
			}
		}
		add("FuzzKubeEncrypt", sel, sel, seedPlaintexts[5], seedADs[0])
	}
	// Values for one key under the prefix of another: nested names, a
	// duplicate name, KMS, and the peer's IV-only aescbc panic.
	dup := fixedConfigs[5]
	sealWith := func(p provDef, k int, pt []byte) []byte {
		e := envelope.Entry{Provider: p.Kind, Name: p.Keys[k].Name}
		var c envelope.Cipher
		switch p.Kind {
		case envelope.AESCBC:
			c, _ = cbc.New(p.Keys[k].Key)
		case envelope.AESGCM:
			c, _ = aead.NewGCM(p.Keys[k].Key)
		case envelope.Secretbox:
			c, _ = aead.NewSecretbox(p.Keys[k].Key)
		}
		out, _ := c.Seal([]byte(e.Prefix()), pt, seedADs[0])
		return out
	}
	edges := [][]byte{
		{}, []byte("plain value"), []byte("k8s:enc:"), []byte("k8s:enc:aescbc:v1:"), []byte("k8s:enc:aescbc:v1:k1:"),
		append([]byte("k8s:enc:aescbc:v1:k1:"), make([]byte, 16)...),  // IV only: the peer panics
		append([]byte("k8s:enc:aescbc:v1:dup:"), make([]byte, 16)...), // IV only, duplicate name
		append([]byte("k8s:enc:aesgcm:v1:g1:"), make([]byte, 28)...),
		append([]byte("k8s:enc:secretbox:v1:s1:"), make([]byte, 40)...),
		append([]byte("k8s:enc:kms:v2:plugin:"), "\x0a\x01x\x12\x01k\x1a\x01d"...),
		[]byte("k8s:enc:kms:v1:plugin:\x00\x01x"),
		[]byte("k8s:enc:identity:v1::x"),
		sealWith(dup.Providers[0], 1, []byte("second dup key")),
		sealWith(dup.Providers[0], 2, []byte("under a:b")),
		sealWith(dup.Providers[1], 1, []byte("gcm a:b")),
		sealWith(dup.Providers[2], 0, []byte("secretbox x:")),
	}
	for i := range fixedConfigs {
		for _, e := range edges {
			add("FuzzChainDecrypt", uint8(i), e, seedADs[0])
			add("FuzzKubeDecrypt", uint8(i), e, seedADs[0])
		}
	}

	// Configurations: every fixed one, and the shapes the loaders refuse.
	for _, c := range fixedConfigs {
		add("FuzzParseConfig", []byte(c.yaml()))
		add("FuzzKubeParseConfig", []byte(c.yaml()))
	}
	head := "kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\n"
	k32, k16 := "c2VjcmV0IGlzIHNlY3VyZSwgYmUgc3VyZSBvZiBpdCE=", "MDEyMzQ1Njc4OWFiY2RlZg=="
	for _, c := range []string{
		"",
		"{}",
		head,
		head + "resources: []\n",
		head + "resources:\n- resources: [secrets]\n  providers: []\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - {name: k1, secret: " + k32 + "}\n      - {name: k1, secret: " + k16 + "}\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - aesgcm:\n      keys:\n      - {name: 'a:b', secret: " + k16 + "}\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - secretbox:\n      keys:\n      - {name: k1, secret: " + k16 + "}\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - {name: k1, secret: 'not base64!'}\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - {name: '', secret: ''}\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - aescbc: {keys: []}\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n    aesgcm: {keys: [{name: k, secret: " + k16 + "}]}\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - {}\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n  unknown: 1\n",
		head + "resources:\n- resources: [secrets]\n  resources: [configmaps]\n  providers:\n  - identity: {}\n",
		head + "resources:\n- resources: [secrets, '*.']\n  providers:\n  - identity: {}\n",
		head + "resources:\n- resources: ['*.*']\n  providers:\n  - identity: {}\n- resources: [secrets]\n  providers:\n  - identity: {}\n",
		head + "resources:\n- resources: ['*', Secrets, 'deployments.extensions', 'events.events.k8s.io', 'x.*', serviceipallocations]\n  providers:\n  - identity: {}\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - kms: {name: p, endpoint: 'unix:///tmp/p.sock'}\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - kms: {apiVersion: v2, name: 'p:q', endpoint: 'unix:///tmp/p.sock'}\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - kms: {apiVersion: v2, name: p, endpoint: 'tcp://x', timeout: 0s, cachesize: 10}\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - kms: {apiVersion: v2, name: p, endpoint: 'unix:///tmp/p.sock'}\n  - kms: {apiVersion: v2, name: p, endpoint: 'unix:///tmp/p.sock'}\n",
		`{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":["secrets"],"providers":[{"secretbox":{"keys":[{"name":"s","secret":"` + k32 + `"}]}}]}]}`,
		"kind: EncryptionConfig\napiVersion: v1\nresources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n",
		"kind: EncryptionConfiguration\napiVersion: v1\nresources: []\n",
		head + "kind: EncryptionConfiguration\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - Identity: {}\n",
	} {
		add("FuzzParseConfig", []byte(c))
		add("FuzzKubeParseConfig", []byte(c))
	}

	// Structured: a few deterministic byte strings for randfill.
	for i := range 8 {
		add("FuzzChains", detKey(fmt.Sprintf("chains-seed/%d", i), 16+24*i), seedPlaintexts[i%len(seedPlaintexts)])
	}
	return s
}

func mustBlock(key []byte) cipher.Block {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	return b
}
