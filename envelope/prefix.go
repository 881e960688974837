package envelope

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/envelope/kmsv2"
)

// This file owns the stored format's facts: the prefix
//
//	k8s:enc:<provider>:<version>:<name>:<payload>
//
// (no prefix at all for identity), the version each provider writes, and the
// layout of each provider's payload. Entry.Prefix, Chain.Match, ParsePrefix
// and every command that describes a stored value use them.

var (
	// ErrMalformedPrefix is returned by ParsePrefix for a value that starts
	// with k8s:enc: but not with a whole <provider>:<version>:<name>: prefix.
	ErrMalformedPrefix = errors.New("envelope: malformed k8s:enc: prefix")
	// ErrUnknownProvider is returned by ParsePrefix for a well-formed prefix
	// whose provider and version no kube-apiserver atrest knows writes (e.g.
	// KMS v1, which kube-apiserver 1.29 and later refuses by default).
	ErrUnknownProvider = errors.New("envelope: unknown provider or version in prefix")
	// ErrMalformedPayload is matched by the errors of Layout.Plaintext: no
	// key can open a payload of that size.
	ErrMalformedPayload = errors.New("envelope: malformed payload")
)

// versions is the format version each encrypting provider writes in its
// prefix.
var versions = map[string]string{
	AESCBC:    "v1",
	AESGCM:    "v1",
	Secretbox: "v1",
	KMSv2:     "v2",
}

// formatPrefix returns the prefix an entry of provider with key (or plugin)
// name writes.
func formatPrefix(provider, name string) string {
	if provider == Identity {
		return ""
	}
	return EncryptedPrefix + provider + ":" + versions[provider] + ":" + name + ":"
}

// Layout is the shape of one provider's payload (what follows the prefix):
// where its nonce or IV sits, its tag, and the overhead they add to the
// plaintext. It is built from the cbc, aead and kmsv2 constants, so it
// cannot drift from the ciphers.
type Layout struct {
	Provider string
	// Nonce is the size of the random nonce or IV that starts the payload;
	// 0 for identity and for KMS v2 (whose nonce sits inside a protobuf).
	Nonce int
	// Tag is the size of the authentication tag: after the ciphertext for
	// aesgcm, before it for secretbox (TagFirst); 0 without one.
	Tag      int
	TagFirst bool
	// Block is the block size the ciphertext is padded to (aescbc, PKCS#7
	// with 1 to Block bytes of padding as kube-apiserver writes it), or 0.
	Block int
	// Variable is set when the overhead is not fixed: the KMS v2 payload is a
	// protobuf EncryptedObject (package envelope/kmsv2 reads it), whose size
	// depends on the key ID, the encrypted DEK source and the annotations,
	// and whose data's overhead depends on its DEK source type
	// (kmsv2.Overhead). PlaintextOf reads such a payload.
	Variable bool
	// Desc describes the payload in one line, for people.
	Desc string

	// describe returns the plaintext size of a Variable layout's payload
	// from its content.
	describe func(payload []byte) (int, error)
}

var layouts = map[string]Layout{
	Identity: {Provider: Identity, Desc: "plaintext"},
	AESCBC: {Provider: AESCBC, Nonce: cbc.BlockSize, Block: cbc.BlockSize,
		Desc: fmt.Sprintf("IV(%d) || AES-CBC ciphertext with PKCS#7 padding", cbc.BlockSize)},
	AESGCM: {Provider: AESGCM, Nonce: aead.GCMNonceSize, Tag: aead.GCMTagSize,
		Desc: fmt.Sprintf("nonce(%d) || ciphertext || tag(%d)", aead.GCMNonceSize, aead.GCMTagSize)},
	Secretbox: {Provider: Secretbox, Nonce: aead.SecretboxNonceSize, Tag: aead.SecretboxTagSize, TagFirst: true,
		Desc: fmt.Sprintf("nonce(%d) || tag(%d) || XSalsa20 ciphertext", aead.SecretboxNonceSize, aead.SecretboxTagSize)},
	// A protobuf message whose encryptedData has kmsv2.DataLayout.
	KMSv2: {Provider: KMSv2, Variable: true, describe: kmsPlaintext,
		Desc: fmt.Sprintf("protobuf EncryptedObject (KMS v2); encryptedData is %s (%s) or %s (%s)",
			kmsv2.DataLayout(kmsv2.HKDFSeed), kmsv2.HKDFSeed, kmsv2.DataLayout(kmsv2.AESGCMKey), kmsv2.AESGCMKey)},
}

// kmsPlaintext is the plaintext size of a KMS v2 payload, as kmsv2.Describe
// tells it.
func kmsPlaintext(payload []byte) (int, error) {
	in, err := kmsv2.Describe(payload)
	return in.Plaintext, err
}

// LayoutOf returns the payload layout of a provider (Identity, AESCBC,
// AESGCM, Secretbox or KMSv2).
func LayoutOf(provider string) (Layout, bool) {
	l, ok := layouts[provider]
	return l, ok
}

// Layout returns the layout of the entry's payload.
func (e Entry) Layout() Layout { return layouts[e.Provider] }

// Overhead returns the fewest bytes the payload adds to a plaintext: nonce
// and tag, and for aescbc the IV and at least one byte of padding; 0 for a
// Variable layout, whose overhead is not fixed.
func (l Layout) Overhead() int {
	if l.Block > 0 {
		return l.Nonce + l.Tag + 1
	}
	return l.Nonce + l.Tag
}

// PayloadError says why a payload of Size bytes cannot be opened by any key
// of its provider. It matches ErrMalformedPayload, and Err if set.
type PayloadError struct {
	Provider string
	Size     int
	Reason   string // e.g. "shorter than nonce and tag"
	Err      error  // the provider's own error (a kmsv2 sentinel), if any
}

func (e *PayloadError) Error() string {
	return fmt.Sprintf("envelope: %s payload of %d bytes: %s", e.Provider, e.Size, e.Reason)
}

func (e *PayloadError) Is(target error) bool { return target == ErrMalformedPayload }

func (e *PayloadError) Unwrap() error { return e.Err }

// Plaintext returns the plaintext sizes a payload of n bytes holds, as
// kube-apiserver writes it (aescbc: the padding length is known only after
// decryption, so lo < hi), or a *PayloadError when no key can open it. A
// Variable layout returns 0, 0, nil: the size is not known from n alone.
func (l Layout) Plaintext(n int) (lo, hi int, err error) {
	fail := func(reason string) (int, int, error) {
		return 0, 0, &PayloadError{Provider: l.Provider, Size: n, Reason: reason}
	}
	switch {
	case l.Variable:
		return 0, 0, nil
	case l.Block > 0:
		if n < l.Nonce+l.Block {
			return fail("shorter than an IV and one block")
		}
		if (n-l.Nonce)%l.Block != 0 {
			return fail(fmt.Sprintf("the ciphertext is not a whole number of %d-byte blocks", l.Block))
		}
		return n - l.Nonce - l.Block, n - l.Nonce - 1, nil
	case n < l.Nonce+l.Tag:
		return fail("shorter than nonce and tag")
	}
	return n - l.Nonce - l.Tag, n - l.Nonce - l.Tag, nil
}

// PlaintextOf returns the plaintext sizes payload holds, as Plaintext does
// for its size, or a *PayloadError when no key can open it. A Variable
// layout (KMS v2) reads the payload: the size its kmsv2.Describe gives
// (encryptedData less kmsv2.Overhead of its DEK source type), or a
// *PayloadError wrapping the kmsv2 error when it does not parse.
func (l Layout) PlaintextOf(payload []byte) (lo, hi int, err error) {
	if l.describe == nil {
		return l.Plaintext(len(payload))
	}
	n, err := l.describe(payload)
	if err != nil {
		return 0, 0, &PayloadError{Provider: l.Provider, Size: len(payload), Reason: err.Error(), Err: err}
	}
	return n, n, nil
}

// NonceOf returns the nonce (or IV) at the start of payload, or nil if the
// layout has none at a fixed place or payload is too short to hold one.
func (l Layout) NonceOf(payload []byte) []byte {
	if l.Nonce == 0 || len(payload) < l.Nonce {
		return nil
	}
	return payload[:l.Nonce]
}

// Prefix is what a stored value's prefix declares, read without a
// configuration by ParsePrefix.
type Prefix struct {
	Provider string // Identity for a value without the k8s:enc: prefix
	Version  string // "v1", or "v2" for KMSv2; "" for identity
	Name     string // the key name, or the KMS plugin name; "" for identity
	Len      int    // the prefix's length: the payload is stored[Len:]
	// Ambiguous is set when the name is not certain: another name, the
	// bytes up to another ':' (all printable ASCII), is possible too. Only
	// a configuration can tell which is right: see ParsePrefix.
	Ambiguous bool
}

// String names the prefix as reports do: "identity", "aesgcm/key1",
// "kms/plugin".
func (p Prefix) String() string {
	if p.Provider == Identity {
		return Identity
	}
	return p.Provider + "/" + p.Name
}

// maxNameScan bounds how far ParsePrefix looks for a longer key name.
const maxNameScan = 4096

// ParsePrefix reads the prefix of a stored value without a configuration.
// A value without k8s:enc: is identity's (plaintext; Len 0). Otherwise it
// returns ErrMalformedPrefix if the value does not go on with
// <provider>:<version>:<name>:, and ErrUnknownProvider, with the fields it
// read, if the provider and version are not one of aescbc, aesgcm and
// secretbox v1 or kms v2.
//
// What it cannot know: kube-apiserver does not forbid ':' in the key names
// of aescbc, aesgcm and secretbox (it does for KMS v2 plugin names), and the
// payload is binary, so it may contain ':' too. "k8s:enc:aesgcm:v1:a:b:…"
// is key "a" with a payload starting "b:", or key "a:b". ParsePrefix takes
// the shortest non-empty name after which the payload has a size the
// provider can open (an aescbc payload must be an IV and whole blocks, the
// others at least nonce and tag), else the shortest, and sets Ambiguous
// whenever another name of printable ASCII is possible: always for a name
// that contains ':', and for about 1% of names that do not, whose random
// payload happens to begin with printable bytes and a ':'. So a name is
// never silently wrong: either it is the only possible one or the prefix
// says it is ambiguous. The configured entries decide exactly: use
// Chain.Match, or the entry Chain.DecryptEntry reports, whenever a
// configuration is at hand.
func ParsePrefix(stored []byte) (Prefix, error) {
	rest, ok := bytes.CutPrefix(stored, []byte(EncryptedPrefix))
	if !ok {
		return Prefix{Provider: Identity}, nil
	}
	prov, rest, ok1 := bytes.Cut(rest, []byte(":"))
	ver, rest, ok2 := bytes.Cut(rest, []byte(":"))
	if !ok1 || !ok2 || len(prov) == 0 || len(ver) == 0 {
		return Prefix{}, ErrMalformedPrefix
	}
	p := Prefix{Provider: string(prov), Version: string(ver)}
	head := len(stored) - len(rest) // up to the name
	known := versions[p.Provider] == p.Version
	if !known || p.Provider == KMSv2 {
		// Plugin names cannot contain ':'; for an unknown provider there
		// is no layout to choose with.
		name, _, ok := bytes.Cut(rest, []byte(":"))
		if !ok || len(name) == 0 {
			return Prefix{}, ErrMalformedPrefix
		}
		p.Name, p.Len = string(name), head+len(name)+1
		if !known {
			return p, fmt.Errorf("%w: %q", ErrUnknownProvider, p.Provider+":"+p.Version)
		}
		return p, nil
	}
	l := layouts[p.Provider]
	first, fit, names := -1, -1, 0 // the first name, the first that fits, how many
	for i := 0; i < len(rest) && i < maxNameScan; i++ {
		c := rest[i]
		if c != ':' {
			if names > 0 && (c < 0x20 || c > 0x7e) {
				break // no longer name is printable
			}
			continue
		}
		if i == 0 {
			continue // names are not empty
		}
		if names++; names == 1 {
			first = i
		}
		if _, _, err := l.Plaintext(len(rest) - i - 1); err == nil && fit < 0 {
			fit = i
		}
		if names == 1 && !printable(rest[:i]) {
			break // a name with other bytes is taken as it is, and no longer one looked for
		}
	}
	if names == 0 {
		return Prefix{}, ErrMalformedPrefix
	}
	chosen := fit
	if chosen < 0 {
		chosen = first // no size fits: the first name, and a malformed payload
	}
	p.Name, p.Len, p.Ambiguous = string(rest[:chosen]), head+chosen+1, names > 1
	return p, nil
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
