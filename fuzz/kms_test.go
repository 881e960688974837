package fuzz_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"sync"
	"testing"
	"testing/cryptotest"
	"time"

	"golang.org/x/crypto/hkdf"
	"google.golang.org/protobuf/encoding/protowire"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/value"
	kkmsv2 "k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2"
	kmstypes "k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2/v2"
	kmsservice "k8s.io/kms/pkg/service"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/envelope/kmsv2"
	"github.com/atrest-dev/atrest/kmsplugin"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// KMS v2 targets. FuzzKMSParse holds envelope/kmsv2's hand decoder to
// protobuf-go: the reference for the wire format is proto.Unmarshal into
// kube-apiserver's generated EncryptedObject followed by its
// ValidateEncryptedObject, so any difference is atrest's fault (rule 4).
// FuzzKMSDecrypt reads k8s:enc:kms:v2:<name>:<payload> with atrest's chain
// and kube-apiserver's transformers, both talking to the same local plugin
// over a unix socket, under rules 1 to 3: the model is that reference
// decoder, the plugin's Decrypt called in process, x/crypto's HKDF and
// crypto/cipher's GCM.

// kmsFixture is the process-wide plugins and the configurations read with.
type kmsFixture struct {
	plugins map[string]*kmsplugin.Plugin // by provider name
	confs   []kmsConf
	chains  []*envelope.Chain
	trs     []value.Transformer
}

// kmsConf is one configuration: its kms provider's name and position.
type kmsConf struct {
	name      string
	providers []string // "kms", "identity", "aesgcm"
}

var kmsConfs = []kmsConf{
	{"fz", []string{"kms", "identity"}},
	{"fz", []string{"aesgcm", "kms"}},
	{"fa", []string{"kms"}}, // a plugin that returns annotations
}

// kmsAnnotations are what plugin "fa" returns with every Encrypt.
var kmsAnnotations = map[string][]byte{"version.kms.atrest.dev": []byte("1"), "b.example.com": {}}

var (
	kmsOnce sync.Once
	kmsFix  *kmsFixture
	kmsErr  error
)

// kmsKEK is the deterministic KEK of plugin name: seeds written in one
// process decrypt in another.
func kmsKEK(name string) []byte { return detKey("kms-kek/"+name, 32) }

func kmsFixtures(t testing.TB) *kmsFixture {
	t.Helper()
	kmsOnce.Do(func() { kmsFix, kmsErr = startKMSFixture() })
	if kmsErr != nil {
		t.Fatal(kmsErr)
	}
	return kmsFix
}

func startKMSFixture() (*kmsFixture, error) {
	fx := &kmsFixture{plugins: map[string]*kmsplugin.Plugin{}}
	endpoints := map[string]string{}
	for _, name := range []string{"fz", "fa"} {
		o := kmsplugin.Options{}
		if name == "fa" {
			o.Annotations = kmsAnnotations
		}
		p, err := kmsplugin.NewWithKEKs(o, kmsKEK(name))
		if err != nil {
			return nil, err
		}
		endpoints[name] = "unix://" + filepath.Join(scratch, name+".sock")
		ln, err := kmsplugin.Listen(endpoints[name])
		if err != nil {
			return nil, err
		}
		// Served until the process exits (TestMain removes the directory).
		go kmsplugin.Serve(context.Background(), ln, p, 5*time.Second, time.Second)
		fx.plugins[name] = p
	}
	// TestMain gives the peer an offline KMS stand-in; these
	// configurations talk to the real plugins.
	offline := encryptionconfig.EnvelopeKMSv2ServiceFactory
	encryptionconfig.EnvelopeKMSv2ServiceFactory = kkmsv2.NewGRPCService
	defer func() { encryptionconfig.EnvelopeKMSv2ServiceFactory = offline }()
	for _, c := range kmsConfs {
		y := c.yaml(endpoints[c.name])
		ch, err := atrestChain(y, fixedResource)
		if err != nil {
			return nil, err
		}
		m, err := kubeLoadKMS([]byte(y))
		if err != nil {
			return nil, err
		}
		fx.confs = append(fx.confs, c)
		fx.chains = append(fx.chains, ch)
		fx.trs = append(fx.trs, m.For(fixedResource))
	}
	return fx, nil
}

// kubeLoadKMS is kubeLoad with a context that lives as long as the
// process: the peer closes its plugin connection when the context ends.
func kubeLoadKMS(yaml []byte) (kubepeer.Transformers, error) {
	return kubepeer.Load(context.Background(), scratch, yaml)
}

func (c kmsConf) yaml(endpoint string) string {
	var ps []kubepeer.Provider
	for _, p := range c.providers {
		switch p {
		case "kms":
			ps = append(ps, kubepeer.KMS(c.name, endpoint))
		case "identity":
			ps = append(ps, kubepeer.Identity)
		case "aesgcm":
			ps = append(ps, kubepeer.Provider{Kind: envelope.AESGCM, Keys: []kubepeer.Key{{Name: "g1", Secret: base64.StdEncoding.EncodeToString(detKey("kms-gcm", 32))}}})
		}
	}
	return kubepeer.Config{Rules: []kubepeer.Rule{{Resources: []string{"secrets"}, Providers: ps}}}.YAML()
}

func (c kmsConf) prefix() []byte { return []byte("k8s:enc:kms:v2:" + c.name + ":") }

func pickKMSConf(sel uint8) int { return int(sel) % len(kmsConfs) }

// modelKMSRead reads a kms payload of configuration i: SPEC §4 and §6 over
// the reference decoder, the plugin (in process), x/crypto and crypto/cipher.
func modelKMSRead(fx *kmsFixture, i int, payload, ad []byte) modelResult {
	c := fx.confs[i]
	o, err := kubepeer.ParseKMS(payload)
	if err != nil {
		return modelResult{matched: true}
	}
	p := fx.plugins[c.name]
	key, err := p.Decrypt(context.Background(), "", &kmsservice.DecryptRequest{
		Ciphertext: o.EncryptedDEKSource, KeyID: o.KeyID, Annotations: o.Annotations,
	})
	if err != nil {
		return modelResult{matched: true}
	}
	data := o.EncryptedData
	switch o.EncryptedDEKSourceType {
	case kmstypes.EncryptedDEKSourceType_AES_GCM_KEY:
		if len(key) != 16 && len(key) != 24 && len(key) != 32 {
			return modelResult{matched: true}
		}
	case kmstypes.EncryptedDEKSourceType_HKDF_SHA256_XNONCE_AES_GCM_SEED:
		if len(key) < 32 || len(data) < 32 {
			return modelResult{matched: true}
		}
		derived := make([]byte, 32)
		io.ReadFull(hkdf.Expand(sha256.New, key, data[:32]), derived)
		key, data = derived, data[32:]
	}
	if len(data) < 12 {
		return modelResult{matched: true}
	}
	b, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(b)
	pt, err := g.Open(nil, data[:12], data[12:], ad)
	if err != nil {
		return modelResult{matched: true}
	}
	st, _ := p.Status(context.Background())
	kmsIndex := 0
	for j, prov := range c.providers {
		if prov == "kms" {
			kmsIndex = j
		}
	}
	stale := kmsIndex != 0 || o.KeyID != st.KeyID || o.EncryptedDEKSourceType != kmstypes.EncryptedDEKSourceType_HKDF_SHA256_XNONCE_AES_GCM_SEED
	if pt == nil {
		pt = []byte{}
	}
	return modelResult{ok: true, plain: pt, stale: stale, entry: kmsIndex, matched: true}
}

// FuzzKMSParse: envelope/kmsv2.Parse against protobuf-go and the
// apiserver's validation (accept/reject and every field).
func FuzzKMSParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		want, kerr := kubepeer.ParseKMS(payload)
		got, err := kmsv2.Parse(payload)
		if (err == nil) != (kerr == nil) {
			t.Fatalf("payload %x: atrest %v, protobuf-go and the apiserver's validation %v", payload, err, kerr)
		}
		if err != nil {
			return
		}
		anns := map[string][]byte{}
		for _, a := range got.Annotations {
			anns[string(a.Key)] = a.Value
		}
		if !bytes.Equal(got.EncryptedData, want.EncryptedData) || string(got.KeyID) != want.KeyID ||
			!bytes.Equal(got.EncryptedDEKSource, want.EncryptedDEKSource) ||
			int32(got.DEKSourceType) != int32(want.EncryptedDEKSourceType) || !maps.EqualFunc(anns, want.Annotations, bytes.Equal) {
			t.Fatalf("payload %x: fields differ: atrest %+v, protobuf-go %+v", payload, got, want)
		}
		// What Parse accepts, AppendMarshal writes back and Parse reads the same.
		again, err := got.AppendMarshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		back, err := kmsv2.Parse(again)
		if err != nil || !bytes.Equal(back.EncryptedData, got.EncryptedData) || len(back.Annotations) != len(got.Annotations) {
			t.Fatalf("re-encoded payload does not parse the same: %v", err)
		}
	})
}

// FuzzKMSDecrypt reads a fuzzed KMS v2 payload under a fixed configuration
// with atrest's chain, the model and kube-apiserver's transformer, all
// through the same running plugin.
func FuzzKMSDecrypt(f *testing.F) {
	f.Fuzz(func(t *testing.T, sel uint8, payload, ad []byte) {
		fx := kmsFixtures(t)
		i := pickKMSConf(sel)
		c := fx.confs[i]
		stored := append(c.prefix(), payload...)
		m := modelKMSRead(fx, i, payload, ad)
		// Rule 1: atrest agrees with the model.
		out, stale, err := fx.chains[i].Decrypt(nil, stored, ad)
		switch {
		case m.ok != (err == nil):
			t.Fatalf("config %d, payload %x: atrest err = %v, the model says accept = %v", i, payload, err, m.ok)
		case m.ok && (!bytes.Equal(out, m.plain) || stale != m.stale):
			t.Fatalf("config %d, payload %x: atrest %q stale=%v, the model %q stale=%v", i, payload, short(out), stale, short(m.plain), m.stale)
		case err != nil && !isOneOf(err, kmsErrors...):
			t.Fatalf("config %d, payload %x: error without a KMS sentinel: %v", i, payload, err)
		case err != nil && (out != nil || stale):
			t.Fatalf("config %d: an error (%v) and a result", i, err)
		case m.ok && cap(out) > len(stored):
			t.Fatalf("config %d: Decrypt allocated %d bytes for a %d-byte value", i, cap(out), len(stored))
		}
		// Rules 2 and 3: the peer.
		k := kubeRead(fx.trs[i], stored, ad)
		atrest := readDesc(m.ok, m.plain, m.stale)
		input := [][]byte{{sel}, payload, ad}
		sides := []string{
			fmt.Sprintf("where: kms configuration %d %v", i, c.providers),
			"stored (hex): " + fmt.Sprintf("%x", stored),
			"atrest and the model: " + atrest,
			"kubernetes: " + k.String(),
		}
		switch {
		case k.panicked:
			recordFinding(t, "FuzzKMSDecrypt", "peer panics reading a kms value: "+k.panicMsg, input, sides...)
		case atrest != readDesc(k.err == nil, k.out, k.stale):
			recordFinding(t, "FuzzKMSDecrypt", fmt.Sprintf("peer %s a kms value where atrest and the model %s",
				readKind(k.err == nil, k.stale), readKind(m.ok, m.stale)), input, sides...)
		}
	})
}

// kmsErrors are the sentinels a failed read of a kms value carries.
var kmsErrors = []error{
	kmsv2.ErrMalformed, kmsv2.ErrDEKSourceType, kmsv2.ErrEmptyData, kmsv2.ErrDEKSource, kmsv2.ErrKeyID, kmsv2.ErrAnnotations,
	kmsv2.ErrPlugin, kmsv2.ErrDEK, kmsv2.ErrShortData, kmsv2.ErrUnavailable, envelope.ErrUnsupported,
	envelope.ErrNoMatch, aead.ErrAuth, aead.ErrTooShort,
}

// TestKMSSeedCorpus writes the seed corpora of the KMS targets (real values
// written by atrest through the plugins, both DEK source types, and
// variants at the edges of the wire format) and checks testdata/fuzz holds
// them, like TestSeedCorpus (-update rewrites them).
func TestKMSSeedCorpus(t *testing.T) {
	fx := kmsFixtures(t)
	cryptotest.SetGlobalRandom(t, 16)
	ad := seedADs[0]
	var decrypt, parse [][]any
	for i, c := range fx.confs {
		for _, typ := range []kmsv2.DEKSourceType{kmsv2.HKDFSeed, kmsv2.AESGCMKey} {
			// A fresh provider: its DEK comes from the deterministic rand.
			p := kmsv2.New(c.name, fx.plugins[c.name], kmsv2.WithDEKSourceType(typ))
			for _, pt := range seedPlaintexts[:4] {
				v, err := p.Seal(nil, pt, ad)
				if err != nil {
					t.Fatal(err)
				}
				decrypt = append(decrypt, []any{uint8(i), v, ad})
				parse = append(parse, []any{v})
			}
			v, _ := p.Seal(nil, []byte("variants"), ad)
			for _, e := range kmsVariants(v) {
				decrypt = append(decrypt, []any{uint8(i), e, ad})
				parse = append(parse, []any{e})
			}
			decrypt = append(decrypt, []any{uint8(i), v, []byte("/registry/secrets/default/moved")})
		}
	}
	writeSeeds(t, map[string][][]any{"FuzzKMSDecrypt": decrypt, "FuzzKMSParse": parse})
}

// kmsVariants are edits of a valid payload at the edges of the protobuf
// wire format and the apiserver's validation.
func kmsVariants(v []byte) [][]byte {
	tag := func(b []byte, num protowire.Number, typ protowire.Type) []byte {
		return protowire.AppendTag(b, num, typ)
	}
	o, _ := kmsv2.Parse(v)
	withKeyID := func(id string) []byte {
		c := o
		c.KeyID = []byte(id)
		out, _ := c.AppendMarshal(nil)
		if out == nil { // invalid: encode by hand
			out = protowire.AppendBytes(tag(nil, 1, protowire.BytesType), o.EncryptedData)
			out = protowire.AppendBytes(tag(out, 2, protowire.BytesType), []byte(id))
			out = protowire.AppendBytes(tag(out, 3, protowire.BytesType), o.EncryptedDEKSource)
		}
		return out
	}
	flipType := bytes.Clone(v)
	if n := len(flipType); n > 2 && flipType[n-2] == 0x28 {
		flipType = flipType[:n-2] // HKDF -> AES_GCM_KEY
	} else {
		flipType = append(flipType, 0x28, 0x01)
	}
	return [][]byte{
		append(bytes.Clone(v), protowire.AppendVarint(tag(nil, 6, protowire.VarintType), 1)...),          // unknown varint
		append(bytes.Clone(v), protowire.AppendBytes(tag(nil, 99, protowire.BytesType), []byte("x"))...), // unknown bytes
		append(bytes.Clone(v), tag(tag(nil, 7, protowire.StartGroupType), 7, protowire.EndGroupType)...), // unknown group
		append(bytes.Clone(v), protowire.AppendBytes(tag(nil, 2, protowire.BytesType), o.KeyID)...),      // key ID twice
		append(bytes.Clone(v), protowire.AppendBytes(tag(nil, 4, protowire.BytesType),
			protowire.AppendBytes(tag(protowire.AppendBytes(tag(nil, 1, protowire.BytesType), []byte("x.example.com")), 2, protowire.BytesType), []byte("v")))...), // an annotation
		append(bytes.Clone(v), 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f), // huge length
		append(bytes.Clone(v), 0x30, 0x80),                         // truncated varint
		flipType,
		withKeyID(""),
		withKeyID("another-key"),
		withKeyID(string(bytes.Repeat([]byte("k"), 1025))),
		v[:len(v)/2],
	}
}
