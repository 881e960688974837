package kmsv2_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kmstypes "k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2/v2"

	"github.com/atrest-dev/atrest/envelope/kmsv2"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// checkParse demands that Parse accepts exactly what the apiserver accepts,
// with the same field values, and returns whether it accepted.
func checkParse(t testing.TB, payload []byte) bool {
	t.Helper()
	want, kerr := kubepeer.ParseKMS(payload)
	got, err := kmsv2.Parse(payload)
	if (err == nil) != (kerr == nil) {
		t.Fatalf("payload %x:\natrest:     %v\nkubernetes: %v", payload, err, kerr)
	}
	if err != nil {
		if !isParseError(err) {
			t.Fatalf("payload %x: error %v matches no sentinel", payload, err)
		}
		return false
	}
	anns := map[string][]byte{}
	for i, a := range got.Annotations {
		if i > 0 && bytes.Compare(got.Annotations[i-1].Key, a.Key) >= 0 {
			t.Fatalf("payload %x: annotations not sorted and unique", payload)
		}
		anns[string(a.Key)] = a.Value
	}
	if !bytes.Equal(got.EncryptedData, want.EncryptedData) || string(got.KeyID) != want.KeyID ||
		!bytes.Equal(got.EncryptedDEKSource, want.EncryptedDEKSource) || int32(got.DEKSourceType) != int32(want.EncryptedDEKSourceType) ||
		!maps.EqualFunc(anns, want.Annotations, bytes.Equal) {
		t.Fatalf("payload %x: fields differ:\natrest:     %+v\nkubernetes: %+v", payload, got, want)
	}
	return true
}

func isParseError(err error) bool {
	for _, s := range []error{kmsv2.ErrMalformed, kmsv2.ErrDEKSourceType, kmsv2.ErrEmptyData, kmsv2.ErrDEKSource, kmsv2.ErrKeyID, kmsv2.ErrAnnotations} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// wire builds payloads field by field.
type wire []byte

func (w wire) bytes(num protowire.Number, v []byte) wire {
	return protowire.AppendBytes(protowire.AppendTag(w, num, protowire.BytesType), v)
}
func (w wire) varint(num protowire.Number, v uint64) wire {
	return protowire.AppendVarint(protowire.AppendTag(w, num, protowire.VarintType), v)
}
func (w wire) tag(num protowire.Number, typ protowire.Type) wire {
	return protowire.AppendTag(w, num, typ)
}
func (w wire) raw(b ...byte) wire { return append(w, b...) }
func (w wire) entry(k, v string) wire {
	return w.bytes(4, wire(nil).bytes(1, []byte(k)).bytes(2, []byte(v)))
}

// base is a valid object: data, key ID, DEK source.
func base() wire {
	return wire(nil).bytes(1, []byte("data")).bytes(2, []byte("key-1")).bytes(3, []byte("wrapped-dek"))
}

// parseCases are payloads at the edges of the protobuf wire format and of
// the apiserver's validation.
func parseCases() map[string][]byte {
	long := strings.Repeat("a", 63)
	c := map[string]wire{
		"valid":                 base(),
		"valid seed":            base().varint(5, 1),
		"type 2":                base().varint(5, 2),
		"type -1":               base().varint(5, 1<<64-1),
		"type 2^32+1":           base().varint(5, 1<<32+1),
		"type as bytes":         base().bytes(5, []byte{1}),
		"empty":                 nil,
		"no data":               wire(nil).bytes(2, []byte("k")).bytes(3, []byte("d")),
		"data then empty data":  base().bytes(1, nil),
		"empty then data":       wire(nil).bytes(1, nil).bytes(2, []byte("k")).bytes(3, []byte("d")).bytes(1, []byte("x")),
		"no key ID":             wire(nil).bytes(1, []byte("x")).bytes(3, []byte("d")),
		"key ID 1024":           wire(nil).bytes(1, []byte("x")).bytes(2, bytes.Repeat([]byte("k"), 1024)).bytes(3, []byte("d")),
		"key ID 1025":           wire(nil).bytes(1, []byte("x")).bytes(2, bytes.Repeat([]byte("k"), 1025)).bytes(3, []byte("d")),
		"key ID not UTF-8":      wire(nil).bytes(1, []byte("x")).bytes(2, []byte{0xff}).bytes(3, []byte("d")),
		"key ID NUL":            wire(nil).bytes(1, []byte("x")).bytes(2, []byte{0}).bytes(3, []byte("d")),
		"src 1024":              wire(nil).bytes(1, []byte("x")).bytes(2, []byte("k")).bytes(3, make([]byte, 1024)),
		"src 1025":              wire(nil).bytes(1, []byte("x")).bytes(2, []byte("k")).bytes(3, make([]byte, 1025)),
		"no src":                wire(nil).bytes(1, []byte("x")).bytes(2, []byte("k")),
		"fields reversed":       wire(nil).varint(5, 1).bytes(3, []byte("d")).bytes(2, []byte("k")).bytes(1, []byte("x")),
		"unknown varint":        base().varint(6, 5),
		"unknown bytes":         base().bytes(99, []byte("zz")),
		"unknown fixed32":       base().tag(7, protowire.Fixed32Type).raw(1, 2, 3, 4),
		"unknown fixed64":       base().tag(7, protowire.Fixed64Type).raw(1, 2, 3, 4, 5, 6, 7, 8),
		"short fixed64":         base().tag(7, protowire.Fixed64Type).raw(1, 2, 3),
		"unknown group":         base().tag(9, protowire.StartGroupType).varint(1, 1).tag(9, protowire.EndGroupType),
		"nested groups":         base().tag(9, protowire.StartGroupType).tag(10, protowire.StartGroupType).tag(10, protowire.EndGroupType).tag(9, protowire.EndGroupType),
		"group wrong end":       base().tag(9, protowire.StartGroupType).tag(8, protowire.EndGroupType),
		"group unterminated":    base().tag(9, protowire.StartGroupType).varint(1, 1),
		"group big field":       base().tag(9, protowire.StartGroupType).varint(1<<30, 1).tag(9, protowire.EndGroupType),
		"end group top level":   base().tag(9, protowire.EndGroupType),
		"data as group":         base().tag(1, protowire.StartGroupType).tag(1, protowire.EndGroupType),
		"wire type 6":           base().raw(0x0e),
		"wire type 7":           base().raw(0x0f),
		"field 0":               base().raw(0x02, 0x00),
		"field 2^29-1":          base().varint(1<<29-1, 0),
		"field 2^29":            base().varint(1<<29, 0),
		"data as varint":        base().varint(1, 7),
		"key ID as fixed32":     base().tag(2, protowire.Fixed32Type).raw(0, 0, 0, 0),
		"truncated length":      base().raw(0x0a, 0x05, 'a'),
		"huge length":           base().raw(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f),
		"varint 10 bytes":       base().raw(0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		"varint overflow":       base().raw(0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02),
		"varint 11 bytes":       base().raw(0x30, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00),
		"truncated varint":      base().raw(0x30, 0x80),
		"overlong tag":          base().raw(0x8a, 0x80, 0x80, 0x00, 0x01, 'x'),
		"annotation":            base().entry("a.b", "v"),
		"annotation no value":   base().bytes(4, wire(nil).bytes(1, []byte("x.io"))),
		"annotation no key":     base().bytes(4, wire(nil).bytes(2, []byte("v"))),
		"annotation empty":      base().bytes(4, nil),
		"annotation one label":  base().entry("localhost", "v"),
		"annotation uppercase":  base().entry("A.b", "v"),
		"annotation dot end":    base().entry("a.b.", "v"),
		"annotation two dots":   base().entry("a.b..", "v"),
		"annotation label 63":   base().entry(long+".io", "v"),
		"annotation label 64":   base().entry(long+"a.io", "v"),
		"annotation dash":       base().entry("a-.io", "v"),
		"annotation not UTF-8":  base().bytes(4, wire(nil).bytes(1, []byte{'a', '.', 0xff})),
		"annotations merge":     base().entry("a.io", "1").entry("b.io", "2").entry("a.io", "3"),
		"annotation dup in":     base().bytes(4, wire(nil).bytes(1, []byte("a.io")).bytes(2, []byte("1")).bytes(1, []byte("b.io"))),
		"annotation unknown in": base().bytes(4, wire(nil).bytes(1, []byte("a.io")).varint(3, 9).bytes(2, []byte("1"))),
		"annotation key varint": base().bytes(4, wire(nil).varint(1, 3).bytes(1, []byte("a.io"))),
		"annotation field 0":    base().bytes(4, wire(nil).raw(0x02, 0x00)),
		"annotation end group":  base().bytes(4, wire(nil).tag(1, protowire.EndGroupType)),
		"annotation group":      base().bytes(4, wire(nil).tag(5, protowire.StartGroupType).tag(5, protowire.EndGroupType).bytes(1, []byte("a.io"))),
		"annotations as varint": base().varint(4, 1),
		"annotations 32 KiB":    base().entry("a.io", strings.Repeat("v", 32*1024-4)),
		"annotations 32 KiB+1":  base().entry("a.io", strings.Repeat("v", 32*1024-3)),
		"annotations dup big":   base().entry("a.io", strings.Repeat("v", 30*1024)).entry("a.io", "small").entry("b.io", strings.Repeat("w", 3*1024)),
	}
	deep := base()
	for range 10001 {
		deep = deep.tag(9, protowire.StartGroupType)
	}
	for range 10001 {
		deep = deep.tag(9, protowire.EndGroupType)
	}
	c["groups 10001 deep"] = deep
	deeper := base()
	for range 10002 {
		deeper = deeper.tag(9, protowire.StartGroupType)
	}
	for range 10002 {
		deeper = deeper.tag(9, protowire.EndGroupType)
	}
	c["groups 10002 deep"] = deeper
	out := map[string][]byte{}
	for k, v := range c {
		out[k] = v
	}
	return out
}

func TestParseAgreesWithProto(t *testing.T) {
	accepted := 0
	for name, p := range parseCases() {
		t.Run(name, func(t *testing.T) {
			if checkParse(t, p) {
				accepted++
			}
		})
	}
	if accepted < 15 || accepted > len(parseCases())-15 {
		t.Errorf("%d of %d cases accepted: the table no longer covers both sides", accepted, len(parseCases()))
	}
	// Every truncation of a valid object with annotations.
	full := base().entry("a.io", "1").varint(5, 1)
	for i := range full {
		checkParse(t, full[:i])
	}
}

// TestParseSentinels checks that each of the apiserver's checks has its own
// sentinel.
func TestParseSentinels(t *testing.T) {
	cases := parseCases()
	for name, want := range map[string]error{
		"truncated length":     kmsv2.ErrMalformed,
		"key ID not UTF-8":     kmsv2.ErrMalformed,
		"type 2":               kmsv2.ErrDEKSourceType,
		"no data":              kmsv2.ErrEmptyData,
		"src 1025":             kmsv2.ErrDEKSource,
		"no src":               kmsv2.ErrDEKSource,
		"key ID 1025":          kmsv2.ErrKeyID,
		"no key ID":            kmsv2.ErrKeyID,
		"annotation one label": kmsv2.ErrAnnotations,
		"annotations 32 KiB+1": kmsv2.ErrAnnotations,
	} {
		if _, err := kmsv2.Parse(cases[name]); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
}

// TestMarshalMatchesProto: AppendMarshal writes what protobuf-go's
// deterministic Marshal of the apiserver's type writes, and Parse reads it.
func TestMarshalMatchesProto(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rb := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for i := range 300 {
		o := kmsv2.Object{
			EncryptedData:      rb(1 + rng.IntN(300)),
			KeyID:              []byte(fmt.Sprintf("key-%d", rng.IntN(1<<20))),
			EncryptedDEKSource: rb(1 + rng.IntN(1024)),
			DEKSourceType:      kmsv2.DEKSourceType(i % 2),
		}
		k := &kmstypes.EncryptedObject{
			EncryptedData: o.EncryptedData, KeyID: string(o.KeyID), EncryptedDEKSource: o.EncryptedDEKSource,
			EncryptedDEKSourceType: kmstypes.EncryptedDEKSourceType(o.DEKSourceType),
		}
		if n := rng.IntN(4); n > 0 {
			k.Annotations = map[string][]byte{}
			for j := range n {
				key := fmt.Sprintf("a%d.example.com", j)
				k.Annotations[key] = rb(rng.IntN(3))
			}
			for _, key := range slices.Sorted(maps.Keys(k.Annotations)) {
				o.Annotations = append(o.Annotations, kmsv2.Annotation{Key: []byte(key), Value: k.Annotations[key]})
			}
		}
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		got, err := o.AppendMarshal([]byte("pre"))
		if err != nil || !bytes.Equal(got[3:], want) {
			t.Fatalf("object %d: AppendMarshal\n got %x\nwant %x (%v)", i, got[3:], want, err)
		}
		checkParse(t, want)
	}
	if _, err := (&kmsv2.Object{KeyID: []byte("k"), EncryptedDEKSource: []byte("d")}).AppendMarshal(nil); !errors.Is(err, kmsv2.ErrEmptyData) {
		t.Errorf("AppendMarshal of an object without data: %v", err)
	}
}

// TestFQDN compares the annotation key rule with apimachinery's.
func TestFQDN(t *testing.T) {
	names := []string{"", ".", "a", "a.", "a.b", "a.b.", "a.b..", ".a.b", "a..b", "A.b", "a_b.c", "a-b.c", "-a.b", "a-.b",
		"0.0", "xn--abc.io", "a.b.c.d.e", strings.Repeat("a", 63) + ".b", strings.Repeat("a", 64) + ".b",
		strings.Repeat("a.", 126) + "b", strings.Repeat("a.", 126) + "bc", strings.Repeat("a.", 126) + "b.", "é.io", "a.b\n"}
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := "ab0-.A_"
	for range 20000 {
		n := rng.IntN(12)
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		names = append(names, string(b))
	}
	for _, n := range names {
		want := len(validation.IsFullyQualifiedDomainName(field.NewPath("a"), n)) == 0
		o := kmsv2.Object{EncryptedData: []byte("x"), KeyID: []byte("k"), EncryptedDEKSource: []byte("d"),
			Annotations: []kmsv2.Annotation{{Key: []byte(n)}}}
		if got := o.Validate() == nil; got != want {
			t.Errorf("%q: atrest valid=%v, apimachinery valid=%v", n, got, want)
		}
	}
}

// TestCacheKey checks the decrypt cache's key against the SPEC's layout,
// built here with cryptobyte.
func TestCacheKey(t *testing.T) {
	anns := []kmsv2.Annotation{{Key: []byte("a.io"), Value: []byte("1")}, {Key: []byte("b.io"), Value: nil}}
	for _, c := range []struct {
		typ  kmsv2.DEKSourceType
		anns []kmsv2.Annotation
	}{{kmsv2.AESGCMKey, nil}, {kmsv2.HKDFSeed, nil}, {kmsv2.HKDFSeed, anns}} {
		b := cryptobyte.NewBuilder(nil)
		b.AddUint32(uint32(c.typ))
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("src")) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("key")) })
		if len(c.anns) > 0 {
			b.AddUint32(uint32(len(c.anns)))
			for _, a := range c.anns {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(a.Key) })
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(a.Value) })
			}
		}
		if got, want := kmsv2.CacheKeyHash(c.typ, []byte("src"), []byte("key"), c.anns), sha256.Sum256(b.BytesOrPanic()); got != want {
			t.Errorf("type %v, %d annotations: cache key differs", c.typ, len(c.anns))
		}
	}
}

func TestParseAllocs(t *testing.T) {
	plain := base().varint(5, 1)
	if n := testing.AllocsPerRun(100, func() { kmsv2.Parse(plain) }); n != 0 {
		t.Errorf("Parse without annotations: %v allocs", n)
	}
	withAnn := base().entry("a.io", "1").entry("b.io", "2")
	if n := testing.AllocsPerRun(100, func() { kmsv2.Parse(withAnn) }); n != 1 {
		t.Errorf("Parse with annotations: %v allocs, want 1", n)
	}
}

// FuzzParse is the codec's differential target (the full read path is
// FuzzKMSDecrypt in the fuzz package).
func FuzzParse(f *testing.F) {
	for _, p := range parseCases() {
		if len(p) < 4096 {
			f.Add(p)
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte) { checkParse(t, payload) })
}
