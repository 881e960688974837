package envelope_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/envelope"
)

func mustChain(t *testing.T, es ...envelope.Entry) *envelope.Chain {
	t.Helper()
	c, err := envelope.NewChain(es...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func key(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

func TestChainRotation(t *testing.T) {
	g1, _ := aead.NewGCM(key(32, 1))
	g2, _ := aead.NewGCM(key(32, 2))
	c1, _ := cbc.New(key(32, 3))
	e1 := envelope.Entry{Provider: envelope.AESGCM, Name: "k1", Cipher: g1}
	e2 := envelope.Entry{Provider: envelope.AESGCM, Name: "k2", Cipher: g2}
	e3 := envelope.Entry{Provider: envelope.AESCBC, Name: "k1", Cipher: c1}
	id := envelope.Entry{Provider: envelope.Identity, Cipher: envelope.IdentityCipher}
	old := mustChain(t, e2, e3)
	cur := mustChain(t, e1, e2, e3, id)
	ad := []byte("/registry/secrets/ns/name")

	stored, err := old.Encrypt(nil, []byte("v1"), ad)
	if err != nil || !bytes.HasPrefix(stored, []byte("k8s:enc:aesgcm:v1:k2:")) {
		t.Fatalf("Encrypt = %q, %v", stored, err)
	}
	got, stale, err := cur.Decrypt(nil, stored, ad)
	if err != nil || !stale || string(got) != "v1" {
		t.Fatalf("rotated read = %q, %v, %v", got, stale, err)
	}
	fresh, _ := cur.Encrypt(nil, []byte("v2"), ad)
	if _, stale, err := cur.Decrypt(nil, fresh, ad); err != nil || stale {
		t.Fatalf("fresh read: stale=%v err=%v", stale, err)
	}
	// Plain data reads through the identity entry at the end, stale.
	if got, stale, err := cur.Decrypt(nil, []byte("plain"), ad); err != nil || !stale || string(got) != "plain" {
		t.Fatalf("plain read = %q, %v, %v", got, stale, err)
	}
	// Match tells the same without decrypting.
	if m := cur.Match(stored); m.Index != 1 || !m.Stale() || m.Entry.Name != "k2" || m.Payload != len(stored)-len("k8s:enc:aesgcm:v1:k2:") {
		t.Fatalf("Match = %+v", m)
	}
	if m := cur.Match([]byte("k8s:enc:aesgcm:v1:zz:xxx")); m.Index != -1 {
		t.Fatalf("Match of an unknown key = %+v", m)
	}
}

func TestDecryptTriesEveryMatch(t *testing.T) {
	// Two keys with the same name: the first fails, the second must be tried.
	a, _ := aead.NewSecretbox(key(32, 1))
	b, _ := aead.NewSecretbox(key(32, 2))
	wa := mustChain(t, envelope.Entry{Provider: envelope.Secretbox, Name: "k", Cipher: b})
	stored, _ := wa.Encrypt(nil, []byte("x"), nil)
	both := mustChain(t,
		envelope.Entry{Provider: envelope.Secretbox, Name: "k", Cipher: a},
		envelope.Entry{Provider: envelope.Secretbox, Name: "k", Cipher: b})
	got, stale, err := both.Decrypt(nil, stored, nil)
	if err != nil || !stale || string(got) != "x" {
		t.Fatalf("Decrypt = %q, %v, %v", got, stale, err)
	}
	// Both failing: both errors, each naming its entry.
	c, _ := aead.NewSecretbox(key(32, 3))
	wc := mustChain(t, envelope.Entry{Provider: envelope.Secretbox, Name: "k", Cipher: c})
	stored, _ = wc.Encrypt(nil, []byte("x"), nil)
	_, _, err = both.Decrypt(nil, stored, nil)
	if !errors.Is(err, aead.ErrAuth) || strings.Count(err.Error(), "secretbox/k") != 2 {
		t.Fatalf("err = %v", err)
	}
}

func TestIdentityRefusesEncrypted(t *testing.T) {
	id := mustChain(t, envelope.Entry{Provider: envelope.Identity, Cipher: envelope.IdentityCipher})
	_, _, err := id.Decrypt(nil, []byte("k8s:enc:aescbc:v1:k:abc"), nil)
	if !errors.Is(err, envelope.ErrNoMatch) {
		t.Fatalf("err = %v", err)
	}
	if _, err := envelope.IdentityCipher.Open(nil, []byte("k8s:enc:x"), nil); !errors.Is(err, envelope.ErrEncryptedData) {
		t.Fatalf("identity Open err = %v", err)
	}
}

func TestEncryptAllocatesOnce(t *testing.T) {
	g, _ := aead.NewGCM(key(32, 1))
	c := mustChain(t, envelope.Entry{Provider: envelope.AESGCM, Name: "key1", Cipher: g})
	pt := make([]byte, 4096)
	if n := testing.AllocsPerRun(50, func() { c.Encrypt(nil, pt, nil) }); n != 1 {
		t.Errorf("Encrypt into nil: %v allocations, want 1", n)
	}
	dst := make([]byte, 0, 8192)
	if n := testing.AllocsPerRun(50, func() { c.Encrypt(dst, pt, nil) }); n != 0 {
		t.Errorf("Encrypt with room: %v allocations, want 0", n)
	}
	stored, _ := c.Encrypt(nil, pt, nil)
	if n := testing.AllocsPerRun(50, func() { c.Decrypt(dst, stored, nil) }); n != 0 {
		t.Errorf("Decrypt with room: %v allocations, want 0", n)
	}
}

func TestEmptyChain(t *testing.T) {
	if _, err := envelope.NewChain(); !errors.Is(err, envelope.ErrEmptyChain) {
		t.Fatal(err)
	}
}
