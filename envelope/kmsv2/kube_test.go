package kmsv2_test

// Differential tests against kube-apiserver: the same EncryptionConfiguration
// (a kubepeer.Config), with a kms v2 provider whose plugin (package
// kmsplugin) runs as a gRPC server on a unix socket, loaded by
// k8s.io/apiserver's LoadEncryptionConfig (kubepeer.Load) and by
// envelope.ParseConfig; values written by either are read by both.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/value"
	kkmsv2 "k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2"
	kmsservice "k8s.io/kms/pkg/service"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/envelope/kmsv2"
	"github.com/atrest-dev/atrest/kmsplugin"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// keys of the local providers the chains mix with kms.
var localKeys = kubepeer.Keyring{
	"aesgcm/g1": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)),
	"aescbc/c1": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, 16)),
}

// conf describes a configuration for secrets: each provider is "identity",
// "kms:<name>" (the plugin at endpoint, with a 2s timeout) or
// "<provider>:<key>".
func conf(endpoint string, providers ...string) kubepeer.Config {
	var ps []kubepeer.Provider
	for _, p := range providers {
		if kind, name, _ := strings.Cut(p, ":"); kind == envelope.KMSv2 {
			kp := kubepeer.KMS(name, endpoint)
			kp.Timeout = 2 * time.Second
			ps = append(ps, kp)
			continue
		}
		ps = append(ps, localKeys.Providers(p)...)
	}
	return kubepeer.Config{Rules: []kubepeer.Rule{{Resources: []string{"secrets"}, Providers: ps}}}
}

// kmsProviders returns the KMS v2 providers of c.
func kmsProviders(c kubepeer.Config) []kubepeer.Provider {
	var out []kubepeer.Provider
	for _, r := range c.Rules {
		for _, p := range r.Providers {
			if p.Kind == envelope.KMSv2 {
				out = append(out, p)
			}
		}
	}
	return out
}

type side struct {
	name string
	enc  func(pt, ad []byte) ([]byte, error)
	dec  func(stored, ad []byte) ([]byte, bool, error)
}

// atrestSide loads c with envelope.ParseConfig. With a DEK source type,
// its kms entries are replaced by Providers that write that type.
func atrestSide(t testing.TB, c kubepeer.Config, typ ...kmsv2.DEKSourceType) side {
	t.Helper()
	ch := atrestChain(t, c)
	name := "atrest"
	if len(typ) > 0 {
		es := ch.Entries()
		for i, e := range es {
			if _, ok := envelope.KMSProvider(e); ok {
				p, err := kmsv2.Dial(e.Name, kmsProviders(c)[0].Endpoint, kmsv2.WithDEKSourceType(typ[0]))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { p.Close() })
				es[i].Cipher = p
			}
		}
		var err error
		if ch, err = envelope.NewChain(es...); err != nil {
			t.Fatal(err)
		}
		name += "(" + typ[0].String() + ")"
	}
	return side{name,
		func(pt, ad []byte) ([]byte, error) { return ch.Encrypt(nil, pt, ad) },
		func(s, ad []byte) ([]byte, bool, error) { return ch.Decrypt(nil, s, ad) }}
}

func atrestChain(t testing.TB, c kubepeer.Config) *envelope.Chain {
	t.Helper()
	cfg, err := envelope.ParseConfig([]byte(c.YAML()))
	if err != nil {
		t.Fatalf("atrest: %v\n%s", err, c.YAML())
	}
	t.Cleanup(func() { cfg.Close() })
	ch, err := cfg.For("secrets")
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// kubeSide loads c with kube-apiserver's loader. kdf=false makes its kms
// providers write AES_GCM_KEY (the apiserver's test switch; it has written
// only HKDF seeds since 1.29).
func kubeSide(t testing.TB, c kubepeer.Config, kdf bool) side {
	t.Helper()
	var restore []func()
	if !kdf {
		for _, p := range kmsProviders(c) {
			restore = append(restore, encryptionconfig.SetKDFForTests(p.Name, false))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m, err := kubepeer.Load(ctx, t.TempDir(), []byte(c.YAML()))
	// The switch is read at each check: the loader's first check made an
	// AES_GCM_KEY write state, which stays until the next one, a minute on.
	for _, f := range restore {
		f()
	}
	if err != nil {
		t.Fatalf("kubernetes: %v", err)
	}
	tr := m.For("secrets")
	name := "kubernetes"
	if !kdf {
		name += "(AES_GCM_KEY)"
	}
	return side{name,
		func(pt, ad []byte) ([]byte, error) {
			return tr.TransformToStorage(context.Background(), bytes.Clone(pt), value.DefaultContext(ad))
		},
		func(s, ad []byte) (out []byte, stale bool, err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("kubernetes panicked: %v", r)
				}
			}()
			return tr.TransformFromStorage(context.Background(), bytes.Clone(s), value.DefaultContext(ad))
		}}
}

type result struct {
	ok, stale, same bool
}

func read(r side, stored, ad, pt []byte) result {
	got, stale, err := r.dec(stored, ad)
	return result{ok: err == nil, stale: stale, same: err == nil && bytes.Equal(got, pt)}
}

// TestKubeKMSRoundTrip: both DEK source types written by both sides, read
// by both, at sizes 0..1 MiB; the apiserver reads atrest's AES_GCM_KEY
// values, and both call them stale under a configuration that writes HKDF
// seeds. A value moved to another etcd key is refused by both.
func TestKubeKMSRoundTrip(t *testing.T) {
	_, srv := startPlugin(t, kmsplugin.Options{}, kek("a"))
	name := uniqueName("rt")
	y := conf(srv.endpoint, "kms:"+name)
	writers := []side{atrestSide(t, y), atrestSide(t, y, kmsv2.AESGCMKey), kubeSide(t, y, true)}
	kubeGCMName := uniqueName("rt")
	writers = append(writers, kubeSide(t, conf(srv.endpoint, "kms:"+kubeGCMName), false))
	readers := []side{atrestSide(t, y), kubeSide(t, y, true)}
	ad := []byte("/registry/secrets/default/s1")
	for _, n := range []int{0, 1, 100, 4096, 65536 + 3, 1 << 20} {
		pt := make([]byte, n)
		rand.Read(pt)
		for wi, w := range writers {
			stored, err := w.enc(pt, ad)
			if err != nil {
				t.Fatalf("%s write %d bytes: %v", w.name, n, err)
			}
			wantType := kmsv2.HKDFSeed
			if strings.Contains(w.name, "AES_GCM_KEY") {
				wantType = kmsv2.AESGCMKey
			}
			prefix := "k8s:enc:kms:v2:" + name + ":"
			if wi == 3 {
				prefix = "k8s:enc:kms:v2:" + kubeGCMName + ":"
			}
			info, err := kmsv2.Describe(bytes.TrimPrefix(stored, []byte(prefix)))
			if err != nil || info.DEKSourceType != wantType || info.Plaintext != n {
				t.Fatalf("%s: value %q...: %+v, %v", w.name, stored[:min(len(stored), 40)], info, err)
			}
			if wi == 3 {
				// Written under another provider name: read it with a
				// configuration that names it.
				ry := conf(srv.endpoint, "kms:"+kubeGCMName)
				for _, r := range []side{atrestSide(t, ry), kubeSide(t, ry, true)} {
					if got := read(r, stored, ad, pt); got != (result{ok: true, stale: true, same: true}) {
						t.Fatalf("%s wrote AES_GCM_KEY, %s reads %+v", w.name, r.name, got)
					}
				}
				continue
			}
			var got [2]result
			for i, r := range readers {
				got[i] = read(r, stored, ad, pt)
			}
			want := result{ok: true, stale: wantType != kmsv2.HKDFSeed, same: true}
			if got[0] != want || got[1] != want {
				t.Fatalf("%s wrote %d bytes: atrest reads %+v, kubernetes %+v, want %+v", w.name, n, got[0], got[1], want)
			}
			for _, r := range readers {
				if _, _, err := r.dec(stored, []byte("/registry/secrets/default/other")); err == nil {
					t.Fatalf("%s reads %s's value under another etcd key", r.name, w.name)
				}
			}
		}
	}
}

// TestKubeKMSChains writes under configurations that mix kms with aesgcm,
// aescbc and identity, and reads under each other with both sides: same
// plaintext, stale and accept/reject.
func TestKubeKMSChains(t *testing.T) {
	_, srv := startPlugin(t, kmsplugin.Options{}, kek("chains"))
	configs := [][]string{
		{"kms:p", "aesgcm:g1", "aescbc:c1", "identity"},
		{"aesgcm:g1", "kms:p", "identity"},
		{"identity", "aescbc:c1", "kms:p"},
		{"aescbc:c1", "aesgcm:g1"},
		{"kms:p"},
		{"kms:q", "kms:p"},
	}
	ad := []byte("/registry/secrets/ns/name")
	type loaded struct{ a, k side }
	var sides []loaded
	for _, c := range configs {
		y := conf(srv.endpoint, c...)
		sides = append(sides, loaded{atrestSide(t, y), kubeSide(t, y, true)})
	}
	for wi := range configs {
		for _, w := range []side{sides[wi].a, sides[wi].k} {
			for _, n := range []int{0, 17, 4096} {
				pt := make([]byte, n)
				rand.Read(pt)
				stored, err := w.enc(pt, ad)
				if err != nil {
					t.Fatalf("config %d: %s write: %v", wi, w.name, err)
				}
				for ri := range configs {
					a, k := read(sides[ri].a, stored, ad, pt), read(sides[ri].k, stored, ad, pt)
					if a != k {
						t.Fatalf("written by %s under config %d, read under config %d: atrest %+v, kubernetes %+v", w.name, wi, ri, a, k)
					}
					if a.ok && !a.same {
						t.Fatalf("config %d -> %d: wrong plaintext", wi, ri)
					}
					if ri == wi && (!a.ok || a.stale) {
						t.Fatalf("config %d: %s's value reads back %+v", wi, w.name, a)
					}
				}
			}
		}
	}
}

// TestKubeKMSRotation rotates the plugin's KEK (a new key ID, the old KEK
// kept for reads): both sides, loaded after the rotation, read old values
// as stale and new ones as fresh, and so does an atrest Provider loaded
// before it once it has checked Status again. When the old KEK is gone,
// both refuse the old values (with nothing cached).
func TestKubeKMSRotation(t *testing.T) {
	dir := t.TempDir()
	cur, prev := filepath.Join(dir, "kek"), filepath.Join(dir, "kek-old")
	if _, err := kmsplugin.CreateKEKFile(cur); err != nil {
		t.Fatal(err)
	}
	pl, err := kmsplugin.New(kmsplugin.Options{}, cur, prev)
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, pl, filepath.Join(socketDir(t), "p.sock"))
	y := conf(srv.endpoint, "kms:rot", "identity")
	ad := []byte("/registry/secrets/a/b")
	pt := []byte("written before the rotation")
	beforeChain := atrestChain(t, y)
	before := side{"atrest (loaded before the rotation)",
		func(pt, ad []byte) ([]byte, error) { return beforeChain.Encrypt(nil, pt, ad) },
		func(s, ad []byte) ([]byte, bool, error) { return beforeChain.Decrypt(nil, s, ad) }}
	var old [][]byte
	for _, w := range []side{before, kubeSide(t, y, true)} {
		v, err := w.enc(pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, v)
	}
	oldID := pl.Loaded()[0].KeyID

	// Rotate: the current KEK becomes the previous one, a new one encrypts.
	if err := os.Rename(cur, prev); err != nil {
		t.Fatal(err)
	}
	newID, err := kmsplugin.CreateKEKFile(cur)
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.Reload(); err != nil {
		t.Fatal(err)
	}
	if l := pl.Loaded(); len(l) != 2 || l[0].KeyID != newID || l[1].KeyID != oldID {
		t.Fatalf("after reload: %+v", l)
	}
	after := []side{atrestSide(t, y), kubeSide(t, y, true)}
	for _, v := range old {
		for _, r := range after {
			if got := read(r, v, ad, pt); got != (result{true, true, true}) {
				t.Fatalf("%s reads a value of the old key ID: %+v, want ok and stale", r.name, got)
			}
		}
		info, _ := kmsv2.Describe(bytes.TrimPrefix(v, []byte("k8s:enc:kms:v2:rot:")))
		if info.KeyID != oldID {
			t.Fatalf("old value's key ID %q, want %q", info.KeyID, oldID)
		}
	}
	for _, w := range after {
		v, err := w.enc(pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := kmsv2.Describe(bytes.TrimPrefix(v, []byte("k8s:enc:kms:v2:rot:"))); info.KeyID != newID {
			t.Fatalf("%s writes key ID %q after the rotation, want %q", w.name, info.KeyID, newID)
		}
		for _, r := range after {
			if got := read(r, v, ad, pt); got != (result{true, false, true}) {
				t.Fatalf("%s reads %s's new value: %+v", r.name, w.name, got)
			}
		}
	}
	// The Provider loaded before the rotation sees it at its next check.
	p, _ := envelope.KMSProvider(beforeChain.Entries()[0])
	if id, _, _ := p.Current(); id != oldID {
		t.Fatalf("before its next check the old provider writes %q", id)
	}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	if id, _, _ := p.Current(); id != newID {
		t.Fatalf("after its check the old provider writes %q, want %q", id, newID)
	}
	if got := read(before, old[1], ad, pt); got != (result{true, true, true}) {
		t.Fatalf("the provider loaded before the rotation reads an old value: %+v", got)
	}

	// Drop the old KEK: fresh loads can no longer read the old values.
	if err := os.Remove(prev); err != nil {
		t.Fatal(err)
	}
	if err := pl.Reload(); err != nil {
		t.Fatal(err)
	}
	gone := []side{atrestSide(t, y), kubeSide(t, y, true)}
	for _, v := range old {
		for _, r := range gone {
			if got := read(r, v, ad, pt); got.ok {
				t.Fatalf("%s reads a value whose KEK is gone", r.name)
			}
		}
	}
}

// TestKubeKMSAnnotations: a plugin that returns annotations; they are part
// of the value and of the cache key, and the plugin refuses a DEK source
// sent back with other annotations, so both sides refuse such a value.
func TestKubeKMSAnnotations(t *testing.T) {
	_, srv := startPlugin(t, kmsplugin.Options{Annotations: map[string][]byte{
		"version.kms.atrest.dev": []byte("1"), "b.example.com": nil,
	}}, kek("ann"))
	y := conf(srv.endpoint, "kms:ann")
	sides := []side{atrestSide(t, y), kubeSide(t, y, true)}
	ad := []byte("/registry/secrets/x/y")
	pt := []byte("annotated")
	for _, w := range sides {
		v, err := w.enc(pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		payload := bytes.TrimPrefix(v, []byte("k8s:enc:kms:v2:ann:"))
		info, err := kmsv2.Describe(payload)
		if err != nil || fmt.Sprint(info.Annotations) != "[{b.example.com 0} {version.kms.atrest.dev 1}]" {
			t.Fatalf("%s: %+v %v", w.name, info, err)
		}
		for _, r := range sides {
			if got := read(r, v, ad, pt); got != (result{true, false, true}) {
				t.Fatalf("%s reads %s's value: %+v", r.name, w.name, got)
			}
		}
		// Change an annotation's value ("1" -> "2"): a new cache key, and
		// the plugin's Decrypt refuses it.
		o, _ := kmsv2.Parse(payload)
		for i, a := range o.Annotations {
			if string(a.Value) == "1" {
				o.Annotations[i].Value = []byte("2")
			}
		}
		forged, err := o.AppendMarshal([]byte("k8s:enc:kms:v2:ann:"))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range sides {
			if got := read(r, forged, ad, pt); got.ok {
				t.Fatalf("%s reads a value with a changed annotation", r.name)
			}
		}
	}
}

// TestKubeKMSTamper flips every byte of, and truncates, values written by
// each side: both accept and refuse the same variants (a flipped byte in an
// unknown-to-the-reader field may be accepted by both).
func TestKubeKMSTamper(t *testing.T) {
	_, srv := startPlugin(t, kmsplugin.Options{}, kek("tamper"))
	y := conf(srv.endpoint, "kms:t", "identity")
	a, k := atrestSide(t, y), kubeSide(t, y, true)
	ad := []byte("/registry/secrets/a/b")
	pt := []byte("a secret value of some length")
	for _, w := range []side{a, k} {
		stored, err := w.enc(pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		for i := range stored {
			for _, v := range [][]byte{flip(stored, i), stored[:i]} {
				ga, gk := read(a, v, ad, pt), read(k, v, ad, pt)
				if ga != gk {
					t.Fatalf("%s's value, variant %q: atrest %+v, kubernetes %+v", w.name, v, ga, gk)
				}
			}
		}
	}
}

func flip(b []byte, i int) []byte {
	v := bytes.Clone(b)
	v[i] ^= 0x01
	return v
}

// TestKubeKMSExpiry stops the plugin and moves both sides' clocks past the
// write state's 3 minutes: both refuse to write and still read. atrest
// writes again once its next check succeeds.
func TestKubeKMSExpiry(t *testing.T) {
	pl, err := kmsplugin.NewWithKEKs(kmsplugin.Options{}, kek("expiry"))
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(socketDir(t), "p.sock")
	srv := serve(t, pl, sock)
	name := uniqueName("exp")
	y := conf(srv.endpoint, "kms:"+name)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	t.Cleanup(kkmsv2.SetNowFuncForTests(name, clock))
	ch := atrestChain(t, y)
	p, _ := envelope.KMSProvider(ch.Entries()[0])
	kmsv2.SetNow(p, clock)
	a := side{"atrest", func(pt, ad []byte) ([]byte, error) { return ch.Encrypt(nil, pt, ad) },
		func(s, ad []byte) ([]byte, bool, error) { return ch.Decrypt(nil, s, ad) }}
	k := kubeSide(t, y, true)
	ad, pt := []byte("/registry/secrets/e/x"), []byte("v")
	var vals [][]byte
	for _, s := range []side{a, k} {
		v, err := s.enc(pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, v)
	}
	for _, s := range []side{a, k} { // both caches hold both DEK sources now
		for _, v := range vals {
			if got := read(s, v, ad, pt); got != (result{true, false, true}) {
				t.Fatalf("%s: %+v", s.name, got)
			}
		}
	}
	srv.stop()
	advance(kmsv2.WriteStateTTL + time.Second)
	for _, s := range []side{a, k} {
		if _, err := s.enc(pt, ad); err == nil {
			t.Fatalf("%s writes with an expired write state and the plugin down", s.name)
		} else if s.name == "atrest" && (!errors.Is(err, kmsv2.ErrExpired) || !errors.Is(err, kmsv2.ErrUnavailable) || !errors.Is(err, envelope.ErrUnsupported)) {
			t.Fatalf("atrest: %v, want ErrExpired, ErrUnavailable and envelope.ErrUnsupported", err)
		}
		for _, v := range vals {
			if got := read(s, v, ad, pt); got != (result{true, false, true}) {
				t.Fatalf("%s reads with the plugin down: %+v", s.name, got)
			}
		}
	}
	// The plugin is back: atrest's next due check renews the write state.
	serve(t, pl, sock)
	if _, err := a.enc(pt, ad); err == nil {
		t.Fatal("atrest wrote before its next check was due")
	}
	advance(kmsv2.StatusRetryInterval)
	if _, err := a.enc(pt, ad); err != nil {
		t.Fatalf("atrest after the plugin came back: %v", err)
	}
}

// TestKubeKMSPluginDown: a configuration whose plugin is not running loads
// on both sides; reads and writes of kms values fail on both, atrest's with
// kmsv2.ErrUnavailable (so also envelope.ErrUnsupported); other entries work.
func TestKubeKMSPluginDown(t *testing.T) {
	endpoint := "unix://" + filepath.Join(socketDir(t), "none.sock")
	y := conf(endpoint, "kms:down", "identity")
	y.Rules[0].Providers[0].Timeout = 300 * time.Millisecond
	a, k := atrestSide(t, y), kubeSide(t, y, true)
	ad, pt := []byte("/registry/secrets/d/x"), []byte("plain")
	_, aerr := a.enc(pt, ad)
	_, kerr := k.enc(pt, ad)
	if aerr == nil || kerr == nil || !errors.Is(aerr, kmsv2.ErrUnavailable) || !errors.Is(aerr, envelope.ErrUnsupported) {
		t.Fatalf("writes with the plugin down: atrest %v, kubernetes %v", aerr, kerr)
	}
	o := kmsv2.Object{EncryptedData: make([]byte, 80), KeyID: []byte("k"), EncryptedDEKSource: []byte("d"), DEKSourceType: kmsv2.HKDFSeed}
	v, _ := o.AppendMarshal([]byte("k8s:enc:kms:v2:down:"))
	_, _, aerr = a.dec(v, ad)
	_, _, kerr = k.dec(v, ad)
	if aerr == nil || kerr == nil || !errors.Is(aerr, kmsv2.ErrUnavailable) {
		t.Fatalf("reads with the plugin down: atrest %v, kubernetes %v", aerr, kerr)
	}
	for _, s := range []side{a, k} {
		if got := read(s, pt, ad, pt); got != (result{true, true, true}) {
			t.Fatalf("%s reads a plain value: %+v", s.name, got)
		}
	}
}

// TestKubeKMSUnhealthy: a plugin whose Status is not healthy but names a
// valid key ID fails both sides' checks, and yet both write and read: the
// apiserver rotates (or extends) its write state before it judges health.
func TestKubeKMSUnhealthy(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*kmsservice.StatusResponse)
	}{
		{"healthz", func(r *kmsservice.StatusResponse) { r.Healthz = "degraded" }},
		{"version", func(r *kmsservice.StatusResponse) { r.Version = "v1beta1" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			kms, _ := newCounting(t, kek("unhealthy"))
			kms.set(func(k *countingKMS) { k.editStatus = c.edit })
			ln, err := kmsplugin.Listen("unix://" + filepath.Join(socketDir(t), "p.sock"))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- kmsplugin.Serve(ctx, ln, kms, time.Second, time.Second) }()
			t.Cleanup(func() { cancel(); <-done })
			y := conf("unix://"+ln.Addr().String(), "kms:"+uniqueName("unhealthy"))
			sides := []side{atrestSide(t, y), kubeSide(t, y, true)}
			ad, pt := []byte("/registry/secrets/u/h"), []byte("written anyway")
			for _, w := range sides {
				v, err := w.enc(pt, ad)
				if err != nil {
					t.Fatalf("%s: %v", w.name, err)
				}
				for _, r := range sides {
					if got := read(r, v, ad, pt); got != (result{true, false, true}) {
						t.Fatalf("%s reads %s's value: %+v", r.name, w.name, got)
					}
				}
			}
		})
	}
}

// TestKubeKMSEmptyADPanics records a finding about the peer (FuzzKMSDecrypt):
// reading an HKDF_SHA256_XNONCE_AES_GCM_SEED value with an empty etcd key
// makes kube-apiserver's transformer panic ("authenticated data must not be
// empty", from its per-etcd-key cache of derived keys), and so does writing
// one. The apiserver always passes the etcd key, so it is unreachable there;
// atrest encrypts and decrypts such a value like any other.
func TestKubeKMSEmptyADPanics(t *testing.T) {
	_, srv := startPlugin(t, kmsplugin.Options{}, kek("emptyad"))
	y := conf(srv.endpoint, "kms:e")
	a, k := atrestSide(t, y), kubeSide(t, y, true)
	v, err := a.enc([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(a, v, nil, []byte("x")); got != (result{true, false, true}) {
		t.Fatalf("atrest reads its value with an empty etcd key: %+v", got)
	}
	if _, _, err := k.dec(v, nil); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Logf("the peer no longer panics on an empty etcd key (%v); update the finding", err)
	}
}
