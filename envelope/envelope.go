// Package envelope implements kube-apiserver's storage envelope: the prefix
// k8s:enc:<provider>:v1:<keyname>: in front of a provider's payload, the
// ordered chain of providers and keys that writes with the first and reads
// with every one whose prefix matches, the stale flag, and the loading of an
// EncryptionConfiguration file into chains per resource.
//
// A Chain behaves like kube-apiserver's nested prefix transformers, flattened:
// provider i, key j of the configuration becomes one Entry, in order. Decrypt
// tries every entry whose prefix starts the stored value, does not stop at a
// failure, and reports stale when the entry that succeeded is not the first
// (the write entry) — exactly when kube-apiserver's two levels report it.
package envelope

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/atrest-dev/atrest/internal/alias"
)

// Cipher is a provider's payload primitive under one key: *cbc.Cipher,
// *aead.GCM, *aead.Secretbox and Identity implement it. Seal appends the
// payload for plaintext to dst; Open appends the plaintext of payload to dst.
// ad is the etcd key. Implementations must be safe for concurrent use.
type Cipher interface {
	Seal(dst, plaintext, ad []byte) ([]byte, error)
	Open(dst, payload, ad []byte) ([]byte, error)
}

// StaleOpener is implemented by ciphers that decide themselves whether a
// value they open is stale, as a KMS v2 provider does (its key ID or DEK
// source type is not the current one). Chain.Decrypt calls OpenStale instead
// of Open for them; the value is stale when OpenStale says so or the entry
// is not the chain's write entry.
type StaleOpener interface {
	OpenStale(dst, payload, ad []byte) (plain []byte, stale bool, err error)
}

// Provider names as they appear in prefixes and configuration files.
const (
	Identity  = "identity"
	AESCBC    = "aescbc"
	AESGCM    = "aesgcm"
	Secretbox = "secretbox"
	KMSv2     = "kms" // prefix k8s:enc:kms:v2:<name>:
)

// EncryptedPrefix starts every value an encrypting provider writes.
const EncryptedPrefix = "k8s:enc:"

var (
	// ErrNoMatch is returned by Decrypt when no entry's prefix matches the value.
	ErrNoMatch = errors.New("envelope: no matching prefix found")
	// ErrEncryptedData is returned by the identity provider for a value that
	// starts with k8s:enc:; Decrypt skips it silently and tries the next entry.
	ErrEncryptedData = errors.New("envelope: identity transformer tried to read encrypted data")
	// ErrUnsupported is matched by the errors of a provider atrest cannot
	// run at this moment: a KMS v2 entry whose plugin is unreachable (its
	// errors then match kmsv2.ErrUnavailable too). Callers that audit or
	// rewrite many values (scan, rotate) count such values as unchecked or
	// unwritable and go on, rather than calling them unreadable or failing.
	ErrUnsupported = errors.New("envelope: provider cannot be used now")
	// ErrEmptyChain is returned by NewChain without entries.
	ErrEmptyChain = errors.New("envelope: a chain needs at least one entry")
)

// Entry is one provider key of a chain.
type Entry struct {
	Provider string // Identity, AESCBC, AESGCM, Secretbox or KMSv2
	Name     string // the key name (the plugin name for KMSv2); empty for Identity
	Cipher   Cipher
}

// Prefix returns the bytes the entry writes before its payload.
func (e Entry) Prefix() string { return formatPrefix(e.Provider, e.Name) }

// String names the entry for errors and reports, never its key.
func (e Entry) String() string {
	if e.Provider == Identity {
		return Identity
	}
	return e.Provider + "/" + e.Name
}

type entry struct {
	Entry
	prefix []byte
	sizer  sizer       // nil if the cipher cannot tell its output size
	stale  StaleOpener // nil if the cipher has no stale rule of its own
}

// sizer is implemented by ciphers that know their output size, so that
// Encrypt allocates once.
type sizer interface{ SealedLen(n int) int }

// Chain is an ordered list of entries for one resource. It is immutable and
// safe for concurrent use.
type Chain struct {
	entries []entry
}

// NewChain returns a chain that writes with entries[0] and reads with all.
func NewChain(entries ...Entry) (*Chain, error) {
	if len(entries) == 0 {
		return nil, ErrEmptyChain
	}
	c := &Chain{entries: make([]entry, len(entries))}
	for i, e := range entries {
		if e.Cipher == nil {
			return nil, fmt.Errorf("envelope: entry %d (%s) has no cipher", i, e)
		}
		s, _ := e.Cipher.(sizer)
		so, _ := e.Cipher.(StaleOpener)
		c.entries[i] = entry{Entry: e, prefix: []byte(e.Prefix()), sizer: s, stale: so}
	}
	return c, nil
}

// Entries returns the chain's entries in order; the first is the write entry.
func (c *Chain) Entries() []Entry {
	out := make([]Entry, len(c.entries))
	for i, e := range c.entries {
		out[i] = e.Entry
	}
	return out
}

// Encrypt appends prefix || payload of the write entry to dst. etcdKey is the
// value's full etcd key, the additional data of aesgcm. It allocates at most
// once, and not at all when dst has room.
func (c *Chain) Encrypt(dst, plaintext, etcdKey []byte) ([]byte, error) {
	e := &c.entries[0]
	orig := dst
	if e.sizer != nil {
		head, _ := alias.SliceForAppend(dst, len(e.prefix)+e.sizer.SealedLen(len(plaintext)))
		dst = head[:len(dst)]
	}
	out := append(dst, e.prefix...)
	out, err := e.Cipher.Seal(out, plaintext, etcdKey)
	if err != nil {
		return orig, fmt.Errorf("envelope: %s: %w", e, err)
	}
	return out, nil
}

// Decrypt finds the entries whose prefix starts stored, in order, and
// appends the plaintext of the first that opens it to dst. stale is true when
// that entry is not the write entry, or its cipher (a StaleOpener) says so,
// which is when kube-apiserver would rewrite the value on its next update.
// A failed entry does not stop the search; if every matching entry fails, the errors are returned (joined when
// several), each naming its entry; if none matches, ErrNoMatch. An identity
// entry that fails is skipped silently, as kube-apiserver does.
func (c *Chain) Decrypt(dst, stored, etcdKey []byte) (plain []byte, stale bool, err error) {
	plain, _, stale, err = c.DecryptEntry(dst, stored, etcdKey)
	return plain, stale, err
}

// DecryptEntry is Decrypt, and also reports the position in the chain of
// the entry that opened the value (-1 on error): the exact entry, where a
// prefix alone may fit several (names that contain ':').
func (c *Chain) DecryptEntry(dst, stored, etcdKey []byte) (plain []byte, index int, stale bool, err error) {
	var errs []error
	for i := range c.entries {
		e := &c.entries[i]
		if !bytes.HasPrefix(stored, e.prefix) {
			continue
		}
		var (
			out     []byte
			err     error
			itStale bool
		)
		if e.stale != nil {
			out, itStale, err = e.stale.OpenStale(dst, stored[len(e.prefix):], etcdKey)
		} else {
			out, err = e.Cipher.Open(dst, stored[len(e.prefix):], etcdKey)
		}
		if err == nil {
			return out, i, itStale || i != 0, nil
		}
		if len(e.prefix) == 0 {
			continue
		}
		errs = append(errs, fmt.Errorf("envelope: %s: %w", e, err))
	}
	switch len(errs) {
	case 0:
		return dst, -1, false, ErrNoMatch
	case 1:
		return dst, -1, false, errs[0]
	default:
		return dst, -1, false, errors.Join(errs...)
	}
}

// Match describes the entry a stored value would be read with, as far as the
// prefix tells, without decrypting.
type Match struct {
	Index   int    // position in the chain; -1 if no prefix matches
	Entry   Entry  // the entry, if Index >= 0
	Layout  Layout // the entry's payload layout, if Index >= 0
	Payload int    // bytes after the prefix
	Others  []int  // further entries whose prefix also matches, tried on failure
}

// Stale reports whether reading the value with the matched entry makes it
// stale (kube-apiserver would rewrite it with the write entry).
func (m Match) Stale() bool { return m.Index > 0 }

// Match returns which entries' prefixes match stored. An identity entry
// matches only values that do not start with k8s:enc:, as only those it reads.
func (c *Chain) Match(stored []byte) Match {
	m := Match{Index: -1}
	for i := range c.entries {
		e := &c.entries[i]
		if !bytes.HasPrefix(stored, e.prefix) {
			continue
		}
		if len(e.prefix) == 0 && bytes.HasPrefix(stored, []byte(EncryptedPrefix)) {
			continue
		}
		if m.Index < 0 {
			m.Index, m.Entry, m.Layout, m.Payload = i, e.Entry, e.Layout(), len(stored)-len(e.prefix)
		} else {
			m.Others = append(m.Others, i)
		}
	}
	return m
}

// IdentityChain returns the chain of the identity provider alone: values
// are stored in the clear. Config.For returns it, this very chain, for a
// resource that no rule of the configuration names, so a caller can tell
// "no rule" (ch == IdentityChain()) from a configured identity rule.
func IdentityChain() *Chain { return identityChain }

var identityChain, _ = NewChain(Entry{Provider: Identity, Cipher: IdentityCipher})

// IdentityCipher is the identity provider's payload: the plaintext itself.
// Open refuses values that start with k8s:enc: with ErrEncryptedData.
var IdentityCipher Cipher = identity{}

type identity struct{}

func (identity) SealedLen(n int) int { return n }

func (identity) Seal(dst, plaintext, _ []byte) ([]byte, error) { return append(dst, plaintext...), nil }

func (identity) Open(dst, payload, _ []byte) ([]byte, error) {
	if bytes.HasPrefix(payload, []byte(EncryptedPrefix)) {
		return dst, ErrEncryptedData
	}
	return append(dst, payload...), nil
}
