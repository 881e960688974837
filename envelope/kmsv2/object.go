package kmsv2

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sync"
	"unicode/utf8"
)

// DEKSourceType says what the plaintext of an EncryptedObject's
// encryptedDEKSource is and how the key that encrypted its data is made from
// it. The values are those of kube-apiserver's EncryptedDEKSourceType enum.
type DEKSourceType int32

const (
	// AESGCMKey (AES_GCM_KEY) is a DEK used directly with AES-GCM; the data
	// is nonce(12) || ciphertext || tag(16). Writers use counter nonces:
	// random(4) || uint64 little endian counter.
	AESGCMKey DEKSourceType = 0
	// HKDFSeed (HKDF_SHA256_XNONCE_AES_GCM_SEED) is a seed; each value is
	// encrypted under HKDF-Expand(SHA-256, seed, info, 32) for the random
	// info that starts its data: info(32) || nonce(12) || ciphertext ||
	// tag(16). kube-apiserver has written only this type since 1.29.
	HKDFSeed DEKSourceType = 1
)

func (t DEKSourceType) String() string {
	switch t {
	case AESGCMKey:
		return "AES_GCM_KEY"
	case HKDFSeed:
		return "HKDF_SHA256_XNONCE_AES_GCM_SEED"
	}
	return fmt.Sprintf("unknown(%d)", int32(t))
}

// The limits kube-apiserver enforces on every EncryptedObject it encodes or
// decodes.
const (
	MaxKeyIDSize              = 1024
	MaxEncryptedDEKSourceSize = 1024
	MaxAnnotationsSize        = 32 * 1024 // keys and values together
)

// Errors of Parse and of encoding, one per check kube-apiserver makes
// (ValidateEncryptedObject and protobuf decoding). They never quote the
// value's content, only sizes.
var (
	// ErrMalformed: the payload is not a protobuf EncryptedObject.
	ErrMalformed = errors.New("kmsv2: malformed EncryptedObject")
	// ErrDEKSourceType: encryptedDEKSourceType is neither AES_GCM_KEY nor
	// HKDF_SHA256_XNONCE_AES_GCM_SEED.
	ErrDEKSourceType = errors.New("kmsv2: unknown encryptedDEKSourceType")
	// ErrEmptyData: encryptedData is empty.
	ErrEmptyData = errors.New("kmsv2: encrypted data is empty")
	// ErrDEKSource: encryptedDEKSource is empty or longer than 1 KiB.
	ErrDEKSource = errors.New("kmsv2: invalid encrypted DEK source")
	// ErrKeyID: keyID is empty or longer than 1 KiB.
	ErrKeyID = errors.New("kmsv2: invalid key ID")
	// ErrAnnotations: an annotation key is not a fully qualified DNS-1123
	// domain name, or keys and values exceed 32 KiB.
	ErrAnnotations = errors.New("kmsv2: invalid annotations")
)

// Annotation is one entry of an EncryptedObject's annotations map.
type Annotation struct {
	Key, Value []byte
}

// Object is a decoded EncryptedObject, the protobuf message that follows a
// KMS v2 value's prefix k8s:enc:kms:v2:<provider name>:
//
//	1 encryptedData          bytes
//	2 keyID                  string
//	3 encryptedDEKSource     bytes
//	4 annotations            map<string, bytes>
//	5 encryptedDEKSourceType enum DEKSourceType
//
// The slices of an Object returned by Parse alias the payload.
type Object struct {
	EncryptedData      []byte
	KeyID              []byte
	EncryptedDEKSource []byte
	Annotations        []Annotation // sorted by key, keys unique
	DEKSourceType      DEKSourceType
}

// Parse decodes an EncryptedObject and validates it as kube-apiserver does
// before using one: it accepts exactly the payloads that proto.Unmarshal into
// kube-apiserver's generated type followed by its ValidateEncryptedObject
// accepts, with the same field values (unknown fields and wire types are
// skipped, a repeated field's last occurrence wins, map entries merge with
// the last value of a key winning, keyID and annotation keys must be UTF-8).
//
// It never panics, allocates nothing when the object has no annotations and
// otherwise one slice of at most one entry per three payload bytes, and the
// returned Object aliases payload.
func Parse(payload []byte) (Object, error) {
	var o Object
	nAnn, err := decode(payload, &o, nil)
	if err != nil {
		return Object{}, err
	}
	if nAnn > 0 {
		anns := make([]Annotation, 0, nAnn)
		if _, err := decode(payload, &o, &anns); err != nil {
			return Object{}, err // cannot happen: the first pass accepted it
		}
		// Sort by key, keeping the last entry of each key (a stable sort
		// keeps equal keys in payload order).
		slices.SortStableFunc(anns, func(a, b Annotation) int { return bytes.Compare(a.Key, b.Key) })
		out := anns[:0]
		for i, a := range anns {
			if i+1 < len(anns) && bytes.Equal(a.Key, anns[i+1].Key) {
				continue
			}
			out = append(out, a)
		}
		o.Annotations = out
	}
	if err := o.Validate(); err != nil {
		return Object{}, err
	}
	return o, nil
}

// The protobuf wire types.
const (
	wireVarint     = 0
	wireFixed64    = 1
	wireBytes      = 2
	wireStartGroup = 3
	wireEndGroup   = 4
	wireFixed32    = 5
)

const (
	maxFieldNumber = 1<<29 - 1 // protowire.MaxValidNumber
	// maxGroupDepth is protobuf-go's limit on nested unknown groups
	// (protowire.DefaultRecursionLimit); the outermost group has depth 0.
	maxGroupDepth = 10000
)

// decode is the wire decoder. It fills o's scalar fields and counts the
// annotation entries; with anns non-nil it appends them, in payload order.
func decode(b []byte, o *Object, anns *[]Annotation) (nAnn int, err error) {
	for len(b) > 0 {
		tag, n := varint(b)
		if n < 0 {
			return 0, ErrMalformed
		}
		b = b[n:]
		num, typ := tag>>3, int(tag&7)
		if num < 1 || num > maxFieldNumber || typ == wireEndGroup {
			return 0, ErrMalformed
		}
		switch {
		case num == 1 && typ == wireBytes, num == 2 && typ == wireBytes, num == 3 && typ == wireBytes:
			v, n := lengthDelimited(b)
			if n < 0 {
				return 0, ErrMalformed
			}
			switch num {
			case 1:
				o.EncryptedData = v
			case 2:
				if !utf8.Valid(v) {
					return 0, ErrMalformed
				}
				o.KeyID = v
			case 3:
				o.EncryptedDEKSource = v
			}
			b = b[n:]
		case num == 4 && typ == wireBytes:
			v, n := lengthDelimited(b)
			if n < 0 {
				return 0, ErrMalformed
			}
			a, err := decodeEntry(v)
			if err != nil {
				return 0, err
			}
			if anns != nil {
				*anns = append(*anns, a)
			}
			nAnn++
			b = b[n:]
		case num == 5 && typ == wireVarint:
			v, n := varint(b)
			if n < 0 {
				return 0, ErrMalformed
			}
			o.DEKSourceType = DEKSourceType(int32(v)) // as protobuf-go stores an enum
			b = b[n:]
		default: // unknown field, or a known one with another wire type
			n := skip(b, typ, uint32(num))
			if n < 0 {
				return 0, ErrMalformed
			}
			b = b[n:]
		}
	}
	return nAnn, nil
}

// decodeEntry decodes one map entry message (key = 1, value = 2); missing
// fields are empty.
func decodeEntry(b []byte) (Annotation, error) {
	var a Annotation
	for len(b) > 0 {
		tag, n := varint(b)
		if n < 0 {
			return a, ErrMalformed
		}
		b = b[n:]
		num, typ := tag>>3, int(tag&7)
		if num < 1 || num > maxFieldNumber {
			return a, ErrMalformed
		}
		if (num == 1 || num == 2) && typ == wireBytes {
			v, n := lengthDelimited(b)
			if n < 0 {
				return a, ErrMalformed
			}
			if num == 1 {
				if !utf8.Valid(v) {
					return a, ErrMalformed
				}
				a.Key = v
			} else {
				a.Value = v
			}
			b = b[n:]
			continue
		}
		n = skip(b, typ, uint32(num))
		if n < 0 {
			return a, ErrMalformed
		}
		b = b[n:]
	}
	return a, nil
}

// varint decodes a protobuf varint: at most 10 bytes, the tenth at most 1.
// It returns n < 0 for a truncated or overlong one.
func varint(b []byte) (v uint64, n int) {
	for i := 0; i < len(b) && i < 10; i++ {
		c := b[i]
		if i == 9 && c > 1 {
			return 0, -1
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, -1
}

// lengthDelimited decodes a length-prefixed field body.
func lengthDelimited(b []byte) (v []byte, n int) {
	m, n := varint(b)
	if n < 0 || m > uint64(len(b)-n) {
		return nil, -1
	}
	return b[n : n+int(m)], n + int(m)
}

// skip returns the length of a field value of wire type typ at the start of
// b, or -1 if it is malformed, as protowire.ConsumeFieldValue does: a group
// runs to the end-group tag of its own number, its fields may be numbered up
// to 2^31-1, and at most maxGroupDepth+1 groups nest.
func skip(b []byte, typ int, num uint32) int {
	switch typ {
	case wireVarint:
		_, n := varint(b)
		return n
	case wireFixed64:
		if len(b) < 8 {
			return -1
		}
		return 8
	case wireFixed32:
		if len(b) < 4 {
			return -1
		}
		return 4
	case wireBytes:
		_, n := lengthDelimited(b)
		return n
	case wireStartGroup:
		return skipGroup(b, num)
	}
	return -1 // an end-group tag out of place, or wire type 6 or 7
}

// skipGroup skips the body of group num and its end tag. The open groups
// are kept on an explicit stack, on the goroutine stack up to 32 deep, so
// that a payload of nested groups costs at most four bytes per payload byte
// rather than a deep recursion.
func skipGroup(b []byte, num uint32) int {
	var small [32]uint32
	open := append(small[:0], num)
	n0 := len(b)
	for len(open) > 0 {
		tag, n := varint(b)
		if n < 0 {
			return -1
		}
		b = b[n:]
		if tag>>3 > 1<<31-1 || tag>>3 < 1 {
			return -1
		}
		num, typ := uint32(tag>>3), int(tag&7)
		switch typ {
		case wireEndGroup:
			if open[len(open)-1] != num {
				return -1
			}
			open = open[:len(open)-1]
		case wireStartGroup:
			if len(open) > maxGroupDepth {
				return -1
			}
			open = append(open, num)
		default:
			n := skip(b, typ, num)
			if n < 0 {
				return -1
			}
			b = b[n:]
		}
	}
	return n0 - len(b)
}

// Validate applies kube-apiserver's ValidateEncryptedObject checks, in its
// order. Annotations must be sorted with unique keys, as Parse leaves them.
func (o *Object) Validate() error {
	switch o.DEKSourceType {
	case AESGCMKey, HKDFSeed:
	default:
		return fmt.Errorf("%w: %d", ErrDEKSourceType, int32(o.DEKSourceType))
	}
	if len(o.EncryptedData) == 0 {
		return ErrEmptyData
	}
	return validateHeader(o.KeyID, o.EncryptedDEKSource, o.Annotations)
}

// validateHeader checks what a writer takes from the plugin's Encrypt
// response: the encrypted DEK source, the key ID and the annotations.
func validateHeader(keyID, src []byte, anns []Annotation) error {
	switch {
	case len(src) == 0:
		return fmt.Errorf("%w: encrypted DEK source is empty", ErrDEKSource)
	case len(src) > MaxEncryptedDEKSourceSize:
		return fmt.Errorf("%w: encrypted DEK source is %d bytes, which exceeds the max size of %d", ErrDEKSource, len(src), MaxEncryptedDEKSourceSize)
	}
	if err := validateKeyID(keyID); err != nil {
		return err
	}
	total := 0
	for i, a := range anns {
		if !isFQDN(a.Key) {
			return fmt.Errorf("%w: annotation key %d of %d is not a fully qualified domain name", ErrAnnotations, i+1, len(anns))
		}
		total += len(a.Key) + len(a.Value)
	}
	if total > MaxAnnotationsSize {
		return fmt.Errorf("%w: total size of annotations is %d, which exceeds the max size of %d", ErrAnnotations, total, MaxAnnotationsSize)
	}
	return nil
}

func validateKeyID(keyID []byte) error {
	switch {
	case len(keyID) == 0:
		return fmt.Errorf("%w: keyID is empty", ErrKeyID)
	case len(keyID) > MaxKeyIDSize:
		return fmt.Errorf("%w: keyID is %d bytes, which exceeds the max size of %d", ErrKeyID, len(keyID), MaxKeyIDSize)
	}
	return nil
}

// isFQDN is apimachinery's IsFullyQualifiedDomainName: after one trailing
// dot is dropped, at most 253 bytes of at least two dot-separated DNS-1123
// labels, each 1..63 bytes of [a-z0-9-] that start and end alphanumeric.
func isFQDN(s []byte) bool {
	if n := len(s); n > 0 && s[n-1] == '.' {
		s = s[:n-1]
	}
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	labels := 0
	for {
		label, rest, more := bytes.Cut(s, []byte{'.'})
		if len(label) == 0 || len(label) > 63 || !alnum(label[0]) || !alnum(label[len(label)-1]) {
			return false
		}
		for _, c := range label {
			if !alnum(c) && c != '-' {
				return false
			}
		}
		labels++
		if !more {
			return labels >= 2
		}
		s = rest
	}
}

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// AppendMarshal appends o's protobuf encoding to dst, fields in number order
// as protobuf-go writes them (annotations in key order, the type omitted
// when it is AES_GCM_KEY, its zero value). It validates o first, as
// kube-apiserver does before it writes one.
func (o *Object) AppendMarshal(dst []byte) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return dst, err
	}
	dst = appendBytesField(dst, 1, o.EncryptedData)
	return appendTail(dst, o.KeyID, o.EncryptedDEKSource, o.Annotations, o.DEKSourceType), nil
}

// appendTail appends fields 2 to 5. A writer encodes them once per write
// state and appends them after each value's field 1.
func appendTail(dst, keyID, src []byte, anns []Annotation, typ DEKSourceType) []byte {
	dst = appendBytesField(dst, 2, keyID)
	dst = appendBytesField(dst, 3, src)
	for _, a := range anns {
		n := 1 + varintLen(uint64(len(a.Key))) + len(a.Key) + 1 + varintLen(uint64(len(a.Value))) + len(a.Value)
		dst = append(dst, 4<<3|wireBytes)
		dst = appendVarint(dst, uint64(n))
		dst = appendBytesField(dst, 1, a.Key)
		dst = appendBytesField(dst, 2, a.Value)
	}
	if typ != AESGCMKey {
		dst = append(dst, 5<<3|wireVarint)
		dst = appendVarint(dst, uint64(int64(typ))) // negative enums take ten bytes, as in protobuf
	}
	return dst
}

func appendBytesField(dst []byte, num byte, v []byte) []byte {
	dst = append(dst, num<<3|wireBytes)
	dst = appendVarint(dst, uint64(len(v)))
	return append(dst, v...)
}

func appendVarint(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

func varintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// cacheKeyHash is SHA-256 of kube-apiserver's DEK cache key for a DEK
// source:
//
//	u32_BE(type) || u16_BE(len) src || u16_BE(len) keyID
//	[|| u32_BE(#annotations) || (u16_BE(len) key || u16_BE(len) value)*, by key]
//
// Values written with one DEK or seed share it; the decrypt cache is keyed
// by it. The lengths fit: Validate bounds each part below 2^16.
func cacheKeyHash(typ DEKSourceType, src, keyID []byte, anns []Annotation) [32]byte {
	h := hashPool.Get().(*hasher)
	h.h.Reset()
	h.u32(uint32(typ))
	h.u16(src)
	h.u16(keyID)
	if len(anns) > 0 {
		h.u32(uint32(len(anns)))
		for _, a := range anns {
			h.u16(a.Key)
			h.u16(a.Value)
		}
	}
	h.h.Sum(h.sum[:0])
	sum := h.sum
	hashPool.Put(h)
	return sum
}

// hasher is a pooled SHA-256 with its own scratch space: slices of locals
// passed to hash.Hash would escape, one allocation per call.
type hasher struct {
	h   hash.Hash
	sum [32]byte
	buf [4]byte
}

func (h *hasher) u32(v uint32) {
	binary.BigEndian.PutUint32(h.buf[:], v)
	h.h.Write(h.buf[:4])
}

func (h *hasher) u16(v []byte) {
	binary.BigEndian.PutUint16(h.buf[:], uint16(len(v)))
	h.h.Write(h.buf[:2])
	h.h.Write(v)
}

var hashPool = sync.Pool{New: func() any { return &hasher{h: sha256.New()} }}
