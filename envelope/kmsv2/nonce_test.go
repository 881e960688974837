package kmsv2_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math"
	"regexp"
	"strconv"
	"testing"

	"golang.org/x/crypto/hkdf"
	kmsservice "k8s.io/kms/pkg/service"

	"github.com/atrest-dev/atrest/aead/nonce/risk"
	"github.com/atrest-dev/atrest/envelope/kmsv2"
)

// layoutFields parses a risk.Scheme's Layout ("random(32) || counter(64)")
// into its named fields and their sizes in bits.
func layoutFields(t *testing.T, layout string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range regexp.MustCompile(`(\w+)\((\d+)\)`).FindAllStringSubmatch(layout, -1) {
		n, _ := strconv.Atoi(m[2])
		out[m[1]] = n
	}
	if len(out) == 0 {
		t.Fatalf("layout %q names no fields", layout)
	}
	return out
}

func schemeByName(t *testing.T, name string) risk.Scheme {
	t.Helper()
	for _, s := range risk.Schemes() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no scheme %q", name)
	return risk.Scheme{}
}

// TestNonceSchemesMatchWrites checks the kmsv2-* rows of atrest nonce's
// model (aead/nonce/risk) against values atrest writes: the counter layout, its
// limit, and the HKDF info and nonce sizes.
func TestNonceSchemesMatchWrites(t *testing.T) {
	kms, pl := newCounting(t, kek("nonce-model"))

	// kmsv2-counter: random(32) || counter(64), and Limit writes per DEK.
	s := schemeByName(t, "kmsv2-counter")
	f := layoutFields(t, s.Layout)
	if f["random"] != 32 || f["counter"] != 64 || f["random"]+f["counter"] != 8*kmsv2.NonceSize {
		t.Fatalf("kmsv2-counter layout %q", s.Layout)
	}
	p, _ := newProvider(kms, kmsv2.WithDEKSourceType(kmsv2.AESGCMKey))
	var first uint64
	randoms := map[uint32]bool{}
	const writes = 64
	for i := range writes {
		v, err := p.Seal(nil, []byte("v"), ad)
		if err != nil {
			t.Fatal(err)
		}
		o, _ := kmsv2.Parse(v)
		n := o.EncryptedData[:kmsv2.NonceSize]
		randoms[binary.BigEndian.Uint32(n[:f["random"]/8])] = true
		ctr := binary.LittleEndian.Uint64(n[f["random"]/8:])
		if i == 0 {
			first = ctr
		} else if ctr != first+uint64(i) {
			t.Fatalf("write %d: counter %d after %d", i, ctr, first)
		}
	}
	if len(randoms) < writes-2 {
		t.Errorf("the %d random bits repeat: %d distinct of %d", f["random"], len(randoms), writes)
	}
	// The writes a DEK serves: counter values first .. 2^64-1.
	if want := float64(math.MaxUint64 - first + 1); s.Limit != want {
		t.Errorf("kmsv2-counter Limit %g, atrest writes %g values per DEK", s.Limit, want)
	}
	kmsv2.SetWriteCounter(p, math.MaxUint64-1)
	if _, err := p.Seal(nil, []byte("v"), ad); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Seal(nil, []byte("v"), ad); err == nil {
		t.Error("a write past the counter's last value succeeded")
	}

	// kmsv2-xnonce: info(256) -> HKDF key, random(96); kmsv2-xnonce-key: info(256).
	x, xk := schemeByName(t, "kmsv2-xnonce"), schemeByName(t, "kmsv2-xnonce-key")
	fx, fk := layoutFields(t, x.Layout), layoutFields(t, xk.Layout)
	if fx["info"] != 8*kmsv2.InfoSize || fx["random"] != 8*kmsv2.NonceSize || fk["info"] != 8*kmsv2.InfoSize {
		t.Fatalf("kmsv2-xnonce layouts %q, %q", x.Layout, xk.Layout)
	}
	p, _ = newProvider(kms)
	pt := []byte("derived key per value")
	infos := map[string]bool{}
	for range 16 {
		v, err := p.Seal(nil, pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		o, _ := kmsv2.Parse(v)
		d := o.EncryptedData
		if len(d) != fx["info"]/8+fx["random"]/8+len(pt)+kmsv2.TagSize {
			t.Fatalf("data of %d bytes for %d plaintext bytes", len(d), len(pt))
		}
		info, nonce := d[:fx["info"]/8], d[fx["info"]/8:fx["info"]/8+fx["random"]/8]
		infos[string(info)] = true
		// Independently: the seed from the plugin, HKDF-Expand from
		// x/crypto, GCM from crypto/cipher.
		seed, err := pl.Decrypt(context.Background(), "", &kmsservice.DecryptRequest{Ciphertext: o.EncryptedDEKSource, KeyID: string(o.KeyID)})
		if err != nil {
			t.Fatal(err)
		}
		key := make([]byte, 32)
		if _, err := io.ReadFull(hkdf.Expand(sha256.New, seed, info), key); err != nil {
			t.Fatal(err)
		}
		b, _ := aes.NewCipher(key)
		g, _ := cipher.NewGCM(b)
		got, err := g.Open(nil, nonce, d[len(info)+len(nonce):], ad)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("HKDF-Expand(seed, info) with the nonce after the info does not open the value: %v", err)
		}
	}
	if len(infos) != 16 {
		t.Errorf("info repeats: %d distinct of 16", len(infos))
	}
	if !math.IsInf(x.Limit, 1) || !math.IsInf(xk.Limit, 1) {
		t.Errorf("kmsv2-xnonce limits %g, %g: atrest's HKDF writes have no counter to exhaust", x.Limit, xk.Limit)
	}
}
