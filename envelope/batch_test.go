package envelope_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/envelope"
)

func TestReencryptRotates(t *testing.T) {
	newC, _ := cbc.New(key(32, 7))
	oldG, _ := aead.NewGCM(key(16, 8))
	other, _ := aead.NewGCM(key(16, 9))
	oldChain := mustChain(t, envelope.Entry{Provider: envelope.AESGCM, Name: "old", Cipher: oldG})
	otherChain := mustChain(t, envelope.Entry{Provider: envelope.AESGCM, Name: "old", Cipher: other})
	cur := mustChain(t,
		envelope.Entry{Provider: envelope.AESCBC, Name: "new", Cipher: newC},
		envelope.Entry{Provider: envelope.AESGCM, Name: "old", Cipher: oldG})

	var stored, keys, want [][]byte
	for i := 0; i < 40; i++ {
		k := []byte(fmt.Sprintf("/registry/secrets/ns/s%d", i))
		pt := bytes.Repeat([]byte{byte(i)}, i*37)
		var s []byte
		switch i % 4 {
		case 0:
			s, _ = cur.Encrypt(nil, pt, k) // already fresh
		case 3:
			s, _ = otherChain.Encrypt(nil, pt, k) // unreadable
		default:
			s, _ = oldChain.Encrypt(nil, pt, k)
		}
		stored, keys, want = append(stored, s), append(keys, k), append(want, pt)
	}
	res, err := cur.Reencrypt(stored, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if i%4 == 3 {
			if !errors.Is(r.Err, aead.ErrAuth) || r.Stored != nil {
				t.Fatalf("%d: unreadable value: %+v", i, r)
			}
			continue
		}
		if i%4 == 0 {
			// Fresh: neither read again nor written.
			if r.Err != nil || r.Stale || r.Stored != nil {
				t.Fatalf("%d: fresh value: %+v", i, r)
			}
			continue
		}
		if r.Err != nil || !r.Stale || !bytes.HasPrefix(r.Stored, []byte("k8s:enc:aescbc:v1:new:")) {
			t.Fatalf("%d: %+v", i, r)
		}
		got, stale, err := cur.Decrypt(nil, r.Stored, keys[i])
		if err != nil || stale || !bytes.Equal(got, want[i]) {
			t.Fatalf("%d: re-encrypted value reads %v %v", i, stale, err)
		}
	}
	if _, err := cur.Reencrypt(stored, keys[:1]); !errors.Is(err, envelope.ErrBatchLen) {
		t.Fatal(err)
	}
}

func TestEncryptBatchWithoutBatchSealer(t *testing.T) {
	g, _ := aead.NewGCM(key(32, 1))
	c := mustChain(t, envelope.Entry{Provider: envelope.AESGCM, Name: "k", Cipher: g})
	out, err := c.EncryptBatch([][]byte{[]byte("a"), []byte("b")}, [][]byte{[]byte("/k1"), []byte("/k2")})
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range []string{"/k1", "/k2"} {
		if _, _, err := c.Decrypt(nil, out[i], []byte(k)); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
	}
}

// TestReencryptKMSWriteEntry: stale values under a KMS write entry whose
// plugin cannot be reached get ErrUnsupported each, with Stale set, and do
// not stop the others (plaintext read by the identity entry is the stale
// value here); a value that is not a KMS v2 payload at all is an error of
// its own, not stale.
func TestReencryptKMSWriteEntry(t *testing.T) {
	cfg, err := envelope.ParseConfig([]byte(configCases[7].yaml))
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := cfg.For("secrets")
	res, err := ch.Reencrypt([][]byte{[]byte("plain"), []byte("k8s:enc:kms:v2:p:xx"), []byte("plain2")}, [][]byte{[]byte("/a"), []byte("/b"), []byte("/c")})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if i == 1 {
			if r.Stored != nil || r.Err == nil || errors.Is(r.Err, envelope.ErrUnsupported) || r.Stale {
				t.Errorf("%d: %+v", i, r)
			}
			continue
		}
		if r.Stored != nil || !errors.Is(r.Err, envelope.ErrUnsupported) || !r.Stale {
			t.Errorf("%d: %+v", i, r)
		}
	}
}

func TestBatchSize(t *testing.T) {
	c, _ := cbc.New(key(32, 1))
	g, _ := aead.NewGCM(key(32, 2))
	cbcFirst := mustChain(t, envelope.Entry{Provider: envelope.AESCBC, Name: "c", Cipher: c}, envelope.Entry{Provider: envelope.AESGCM, Name: "g", Cipher: g})
	gcmFirst := mustChain(t, envelope.Entry{Provider: envelope.AESGCM, Name: "g", Cipher: g}, envelope.Entry{Provider: envelope.AESCBC, Name: "c", Cipher: c})
	if cbcFirst.BatchSize() != c.BatchSize() || c.BatchSize() < 1 || gcmFirst.BatchSize() != 1 || envelope.IdentityChain().BatchSize() != 1 {
		t.Fatalf("batch sizes: aescbc write %d (cipher %d), aesgcm write %d", cbcFirst.BatchSize(), c.BatchSize(), gcmFirst.BatchSize())
	}
}
