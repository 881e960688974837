package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/envelope/kmsv2"
	"github.com/atrest-dev/atrest/kmsplugin"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// kmsFixture is a local plugin served on a unix socket from KEK files (the
// first encrypts; rotate makes a new one), and a configuration file whose
// secrets go through it (kms "local", then identity).
type kmsFixture struct {
	dir, cur, prev, config string
	plugin                 *kmsplugin.Plugin
	server                 *kmsplugin.Server
}

func newKMSFixture(t *testing.T, o kmsplugin.Options) *kmsFixture {
	t.Helper()
	f := &kmsFixture{dir: shortDir(t)}
	f.cur, f.prev = filepath.Join(f.dir, "kek"), filepath.Join(f.dir, "kek-old")
	if _, err := kmsplugin.CreateKEKFile(f.cur); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.plugin, err = kmsplugin.New(o, f.cur, f.prev); err != nil {
		t.Fatal(err)
	}
	f.start(t)
	c := kubepeer.Config{Rules: []kubepeer.Rule{{Resources: []string{"secrets"},
		Providers: []kubepeer.Provider{kubepeer.KMS("local", f.server.Endpoint), kubepeer.Identity}}}}
	f.config = filepath.Join(f.dir, "enc.yaml")
	if err := os.WriteFile(f.config, []byte(c.YAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// start serves the plugin (again).
func (f *kmsFixture) start(t *testing.T) {
	t.Helper()
	s, err := kmsplugin.Start("unix://"+filepath.Join(f.dir, "p.sock"), f.plugin)
	if err != nil {
		t.Fatal(err)
	}
	f.server = s
	t.Cleanup(func() { s.Stop() })
}

// stop stops the plugin: its socket is gone.
func (f *kmsFixture) stop(t *testing.T) {
	t.Helper()
	if err := f.server.Stop(); err != nil {
		t.Fatal(err)
	}
}

// keyID is the key ID the plugin encrypts with now.
func (f *kmsFixture) keyID() string { return f.plugin.Loaded()[0].KeyID }

// rotate makes a new KEK the one that encrypts, keeping the old one for
// reads, as the documented rotation does (SIGHUP is Reload).
func (f *kmsFixture) rotate(t *testing.T) (oldID, newID string) {
	t.Helper()
	oldID = f.keyID()
	if err := os.Rename(f.cur, f.prev); err != nil {
		t.Fatal(err)
	}
	newID, err := kmsplugin.CreateKEKFile(f.cur)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.plugin.Reload(); err != nil {
		t.Fatal(err)
	}
	return oldID, newID
}

func inspectJSON(t *testing.T, stored []byte, args ...string) report {
	t.Helper()
	code, out, stderr := atrest(t, stored, append([]string{"inspect", "--json"}, args...)...)
	var r report
	if code != 0 || json.Unmarshal(out, &r) != nil {
		t.Fatalf("inspect %q: exit %d\n%s%s", args, code, out, stderr)
	}
	return r
}

// TestInspectKMS: inspect describes a KMS v2 value without the plugin
// (key ID, DEK source type and identity, annotation keys with the sizes of
// their values, sizes, the plaintext size from the layout), and with
// --config asks the plugin whether it is stale: fresh, stale after a KEK
// rotation, stale for the other DEK source type, unknown with the plugin
// down.
func TestInspectKMS(t *testing.T) {
	const annValue = "an-annotation-value-of-the-plugin"
	f := newKMSFixture(t, kmsplugin.Options{Annotations: map[string][]byte{"version.kms.atrest.dev": []byte(annValue)}})
	key := "/registry/secrets/default/s1"
	pt := []byte("k8s\x00a secret")
	code, stored, stderr := atrest(t, pt, "encrypt", "--config", f.config, "--key", key)
	if code != 0 || !bytes.HasPrefix(stored, []byte("k8s:enc:kms:v2:local:")) {
		t.Fatalf("encrypt: %d %q %s", code, stored, stderr)
	}
	idA := f.keyID()
	r := inspectJSON(t, stored, "--config", f.config, "--key", key)
	k := r.KMS
	if r.Provider != "kms" || r.KeyName != "local" || r.Entry != 0 || r.Stale == nil || *r.Stale || r.Malformed != "" || k == nil {
		t.Fatalf("inspect: %+v", r)
	}
	if r.PlaintextMin != len(pt) || r.PlaintextMax != len(pt) {
		t.Errorf("plaintext %d..%d bytes, want %d", r.PlaintextMin, r.PlaintextMax, len(pt))
	}
	if k.KeyID != idA || k.DEKSourceType != "HKDF_SHA256_XNONCE_AES_GCM_SEED" || k.Plugin != "reachable" || k.CurrentKeyID != idA ||
		len(k.DEKSource) != 64 || k.EncryptedDataBytes != len(pt)+kmsv2.Overhead(kmsv2.HKDFSeed) || k.EncryptedDEKSourceBytes == 0 ||
		len(k.Annotations) != 1 || k.Annotations[0] != (kmsAnnotation{"version.kms.atrest.dev", len(annValue)}) {
		t.Errorf("kms: %+v", k)
	}
	// Without --config: the same description, no plugin, no verdict.
	bare := inspectJSON(t, stored)
	if bare.KMS == nil || bare.KMS.KeyID != idA || bare.KMS.DEKSource != k.DEKSource || bare.KMS.Plugin != "" || bare.Stale != nil || bare.PlaintextMin != len(pt) {
		t.Errorf("inspect without --config: %+v %+v", bare, bare.KMS)
	}
	code, text, _ := atrest(t, stored, "inspect", "--config", f.config, "--key", key)
	for _, want := range []string{"key ID:     " + idA, "annotation: version.kms.atrest.dev (value: " + itoa(len(annValue)) + " bytes)",
		"plaintext:  " + itoa(len(pt)) + " bytes", "plugin:     reachable", "stale:      no"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("inspect text lacks %q:\n%s", want, text)
		}
	}
	for _, out := range [][]byte{text, mustJSON(t, r)} {
		if bytes.Contains(out, []byte(annValue)) {
			t.Errorf("inspect shows an annotation's value:\n%s", out)
		}
	}

	// An AES_GCM_KEY value: 28 bytes of overhead, stale (the provider writes HKDF seeds).
	p, err := kmsv2.Dial("local", f.server.Endpoint, kmsv2.WithDEKSourceType(kmsv2.AESGCMKey))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	gcm, err := p.Seal([]byte("k8s:enc:kms:v2:local:"), pt, []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	r = inspectJSON(t, gcm, "--config", f.config, "--key", key)
	if r.KMS == nil || r.KMS.DEKSourceType != "AES_GCM_KEY" || r.KMS.EncryptedDataBytes != len(pt)+kmsv2.Overhead(kmsv2.AESGCMKey) ||
		r.PlaintextMin != len(pt) || r.Stale == nil || !*r.Stale {
		t.Errorf("AES_GCM_KEY value: %+v %+v", r, r.KMS)
	}
	if _, text, _ := atrest(t, gcm, "inspect", "--config", f.config, "--key", key); !strings.Contains(string(text), "stale:      yes: its DEK source type is AES_GCM_KEY, the provider writes HKDF_SHA256_XNONCE_AES_GCM_SEED") {
		t.Errorf("AES_GCM_KEY value:\n%s", text)
	}

	// After a KEK rotation, the value is stale: its key ID is not the plugin's.
	_, idB := f.rotate(t)
	r = inspectJSON(t, stored, "--config", f.config, "--key", key)
	if r.Stale == nil || !*r.Stale || r.KMS.KeyID != idA || r.KMS.CurrentKeyID != idB {
		t.Errorf("after rotation: %+v %+v", r, r.KMS)
	}
	if _, text, _ := atrest(t, stored, "inspect", "--config", f.config, "--key", key); !strings.Contains(string(text), "stale:      yes: key ID "+idA+" is not the plugin's current one") {
		t.Errorf("after rotation:\n%s", text)
	}

	// The plugin down: described all the same, staleness unknown, exit 0.
	f.stop(t)
	r = inspectJSON(t, stored, "--config", f.config, "--key", key)
	if r.Stale != nil || r.KMS == nil || r.KMS.Plugin != "unreachable" || r.KMS.PluginError == "" || r.KMS.KeyID != idA || r.PlaintextMin != len(pt) {
		t.Errorf("plugin down: %+v %+v", r, r.KMS)
	}
	code, text, _ = atrest(t, stored, "inspect", "--config", f.config, "--key", key)
	if code != 0 || !strings.Contains(string(text), "stale:      plugin unreachable: staleness unknown") || !strings.Contains(string(text), "plugin:     unreachable: ") {
		t.Errorf("plugin down: exit %d\n%s", code, text)
	}

	// A payload that is not an EncryptedObject: malformed, whatever the plugin.
	r = inspectJSON(t, []byte("k8s:enc:kms:v2:local:not protobuf"), "--config", f.config, "--key", key)
	if r.KMS != nil || !strings.Contains(r.Malformed, "malformed EncryptedObject") {
		t.Errorf("malformed payload: %+v", r)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
