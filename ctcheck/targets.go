package ctcheck

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/internal/cpu"
	"github.com/atrest-dev/atrest/internal/ctaes"
	"github.com/atrest-dev/atrest/internal/impl"
)

// The inputs of the Open targets: a value of DefaultSize bytes (the shape of
// a small Secret; Sized makes larger ones, which reach the bulk loops of the
// hardware paths) stored under etcdKey.
const (
	DefaultSize = 64
	etcdKey     = "/registry/secrets/default/s1"
)

// Targets returns atrest's targets on this CPU, in a stable order:
//
//   - cbc-open, gcm-open, secretbox-open: the provider's Open (decrypt path:
//     padding check or tag check, block function, hash) for each
//     implementation in impl.List, the generic one included;
//   - aes-block: one AES-256 block decryption, bitsliced (generic) and,
//     where the CPU has AES-NI, crypto/aes;
//   - aes-keysched: AES-256 key expansion, bitsliced (generic) and, where
//     the CPU has AES-NI, crypto/aes;
//   - cbc-new, gcm-new, secretbox-new: the provider constructors, which
//     expand the key for every path ("all").
func Targets() []Target { return targets(DefaultSize) }

// Sized returns the Open targets (cbc-open, gcm-open, secretbox-open) of
// every implementation for plaintexts of size bytes, a multiple of 16 of at
// least 32, named "<name>@<size>". It panics on another size.
func Sized(size int) []Target {
	if size < 32 || size%16 != 0 {
		panic("ctcheck: Sized needs a multiple of 16 of at least 32")
	}
	var ts []Target
	for _, t := range targets(size) {
		if strings.HasSuffix(t.Name, "-open") {
			t.Name += "@" + strconv.Itoa(size)
			ts = append(ts, t)
		}
	}
	return ts
}

func targets(size int) []Target {
	var ts []Target
	for _, name := range impl.List("cbc") {
		ts = append(ts, cbcOpen("cbc", name, size, newCBCOpener))
	}
	for _, name := range impl.List("gcm") {
		ts = append(ts, tagTarget("gcm-open", "gcm", name, size, newGCMOpener))
	}
	for _, name := range impl.List("secretbox") {
		ts = append(ts, tagTarget("secretbox-open", "secretbox", name, size, newSecretboxOpener))
	}
	ts = append(ts, aesBlock("generic", func(k []byte) (cipher.Block, error) { return ctaes.New(k) }),
		aesKeySched("generic", func(k []byte) error { var c ctaes.Cipher; return c.Init(k) }))
	if cpu.X86.HasAES {
		// crypto/aes is the stdlib path's block function and key schedule
		// only where it runs on AES-NI; elsewhere (and under purego) it is
		// table-based and atrest never calls it.
		ts = append(ts,
			aesBlock("crypto-aes", aes.NewCipher),
			aesKeySched("crypto-aes", func(k []byte) error { _, err := aes.NewCipher(k); return err }))
	}
	ts = append(ts,
		constructor("cbc-new", func(k []byte) error { _, err := cbc.New(k); return err }),
		constructor("gcm-new", func(k []byte) error { _, err := aead.NewGCM(k); return err }),
		constructor("secretbox-new", func(k []byte) error { _, err := aead.NewSecretbox(k); return err }),
	)
	return ts
}

// Opener is the decrypt side of a provider: it returns the plaintext or an
// error, as cbc.Cipher.Open, aead.GCM.Open and the peer's transformers do.
type Opener func(payload, etcdKey []byte) ([]byte, error)

// A NewOpener builds an Opener for key; seal makes valid payloads for
// building the fixed input (it need not be constant-time).
type NewOpener func(key []byte) (open Opener, seal func(plaintext, etcdKey []byte) ([]byte, error), err error)

func newCBCOpener(key []byte) (Opener, func(pt, ad []byte) ([]byte, error), error) {
	c, err := cbc.New(key)
	if err != nil {
		return nil, nil, err
	}
	dst := make([]byte, 0, 1024)
	return func(p, ad []byte) ([]byte, error) { return c.Open(dst[:0], p, ad) },
		func(pt, ad []byte) ([]byte, error) { return c.Seal(nil, pt, ad) }, nil
}

func newGCMOpener(key []byte) (Opener, func(pt, ad []byte) ([]byte, error), error) {
	g, err := aead.NewGCM(key)
	if err != nil {
		return nil, nil, err
	}
	dst := make([]byte, 0, 1024)
	return func(p, ad []byte) ([]byte, error) { return g.Open(dst[:0], p, ad) },
		func(pt, ad []byte) ([]byte, error) { return g.Seal(nil, pt, ad) }, nil
}

func newSecretboxOpener(key []byte) (Opener, func(pt, ad []byte) ([]byte, error), error) {
	s, err := aead.NewSecretbox(key)
	if err != nil {
		return nil, nil, err
	}
	dst := make([]byte, 0, 1024)
	return func(p, ad []byte) ([]byte, error) { return s.Open(dst[:0], p, ad) },
		func(pt, ad []byte) ([]byte, error) { return s.Seal(nil, pt, ad) }, nil
}

var errNoLeakClass = errors.New("opened a payload that must fail")

// CBCOpen is the aescbc Open target for DefaultSize plaintexts: class 0
// is one fixed payload whose plaintext ends in 15 correct bytes of 16-byte padding and one wrong byte
// just before the last (a check that exits at the first wrong byte takes
// long); class 1 is random payloads conditioned on bad padding (a check that
// exits early mostly takes short). Both classes fail with the same error.
// pkg and implName are passed to impl.Select ("" for none).
func CBCOpen(pkg, implName string, newOpener NewOpener) Target {
	return cbcOpen(pkg, implName, DefaultSize, newOpener)
}

func cbcOpen(pkg, implName string, plainLen int, newOpener NewOpener) Target {
	return Target{
		Name: "cbc-open", Impl: implName, Pkg: pkg,
		Classes: "fixed payload, bad padding caught at byte 15 of 16 vs random payloads with bad padding",
		Setup: func(rng *rand.Rand) (*Case, error) {
			key := randBytes(rng, 32)
			open, _, err := newOpener(key)
			if err != nil {
				return nil, err
			}
			block, _ := aes.NewCipher(key)
			size := aes.BlockSize + plainLen
			padded := randBytes(rng, plainLen)
			for i := plainLen - 16; i < plainLen; i++ {
				padded[i] = 16
			}
			padded[plainLen-2] = 15
			fixed := randBytes(rng, aes.BlockSize) // IV
			fixed = append(fixed, make([]byte, plainLen)...)
			cipher.NewCBCEncrypter(block, fixed[:16]).CryptBlocks(fixed[16:], padded)
			if _, err := open(fixed, []byte(etcdKey)); err == nil {
				return nil, errNoLeakClass
			}
			buf := make([]byte, plainLen)
			return &Case{
				InputSize: size,
				Input: func(class int, in []byte, rng *rand.Rand) {
					if class == 0 {
						copy(in, fixed)
						return
					}
					for {
						fill(rng, in)
						cipher.NewCBCDecrypter(block, in[:16]).CryptBlocks(buf, in[16:])
						if !validPadding(buf) {
							return
						}
					}
				},
				Op: func(in []byte) { open(in, []byte(etcdKey)) },
			}, nil
		},
	}
}

// validPadding reports whether b ends in padding kube-apiserver accepts
// (variable time: used only to prepare inputs).
func validPadding(b []byte) bool {
	p := int(b[len(b)-1])
	if p == 0 || p > len(b) {
		return false
	}
	for _, x := range b[len(b)-p:] {
		if int(x) != p {
			return false
		}
	}
	return true
}

// GCMOpen is the aesgcm Open target: class 0 is one fixed payload whose tag
// is wrong in its last byte only (a comparison that exits at the first
// difference takes long); class 1 is random payloads of the same length
// (ciphertext and tag random: the tag is wrong in its first byte with
// probability 255/256). Both classes fail authentication.
func GCMOpen(pkg, implName string, newOpener NewOpener) Target {
	return tagTarget("gcm-open", pkg, implName, DefaultSize, newOpener)
}

// SecretboxOpen is GCMOpen for secretbox, whose tag precedes the ciphertext.
func SecretboxOpen(pkg, implName string, newOpener NewOpener) Target {
	return tagTarget("secretbox-open", pkg, implName, DefaultSize, newOpener)
}

func tagTarget(name, pkg, implName string, plainLen int, newOpener NewOpener) Target {
	return Target{
		Name: name, Impl: implName, Pkg: pkg,
		Classes: "fixed payload, tag wrong in its last byte vs random payloads",
		Setup: func(rng *rand.Rand) (*Case, error) {
			key := randBytes(rng, 32)
			open, seal, err := newOpener(key)
			if err != nil {
				return nil, err
			}
			fixed, err := seal(randBytes(rng, plainLen), []byte(etcdKey))
			if err != nil {
				return nil, err
			}
			if _, err := open(fixed, []byte(etcdKey)); err != nil {
				return nil, err
			}
			tagEnd := len(fixed) // GCM: nonce || ct || tag
			if name == "secretbox-open" {
				tagEnd = 24 + 16 // nonce || tag || ct
			}
			fixed[tagEnd-1] ^= 1
			if _, err := open(fixed, []byte(etcdKey)); err == nil {
				return nil, errNoLeakClass
			}
			return &Case{
				InputSize: len(fixed),
				Input: func(class int, in []byte, rng *rand.Rand) {
					if class == 0 {
						copy(in, fixed)
					} else {
						fill(rng, in)
					}
				},
				Op: func(in []byte) { open(in, []byte(etcdKey)) },
			}, nil
		},
	}
}

// aesBlock is the block function target: AES-256 decryption of a fixed
// block vs random blocks under a fixed key.
func aesBlock(implName string, newBlock func([]byte) (cipher.Block, error)) Target {
	return Target{
		Name: "aes-block", Impl: implName,
		Classes: "AES-256 decrypt: fixed block vs random blocks",
		Setup: func(rng *rand.Rand) (*Case, error) {
			b, err := newBlock(randBytes(rng, 32))
			if err != nil {
				return nil, err
			}
			fixed := randBytes(rng, 16)
			out := make([]byte, 16)
			return &Case{
				InputSize: 16,
				Input: func(class int, in []byte, rng *rand.Rand) {
					if class == 0 {
						copy(in, fixed)
					} else {
						fill(rng, in)
					}
				},
				Op: func(in []byte) { b.Decrypt(out, in) },
			}, nil
		},
	}
}

// aesKeySched is the key schedule target: AES-256 key expansion of a fixed
// key vs random keys.
func aesKeySched(implName string, expand func([]byte) error) Target {
	t := constructor("aes-keysched", expand)
	t.Impl = implName
	return t
}

// constructor is a target that runs f on a fixed 32-byte key vs random keys.
func constructor(name string, f func([]byte) error) Target {
	return Target{
		Name: name, Impl: "all",
		Classes: "fixed 32-byte key vs random keys",
		Setup: func(rng *rand.Rand) (*Case, error) {
			fixed := randBytes(rng, 32)
			if err := f(fixed); err != nil {
				return nil, err
			}
			return &Case{
				InputSize: 32,
				Input: func(class int, in []byte, rng *rand.Rand) {
					if class == 0 {
						copy(in, fixed)
					} else {
						fill(rng, in)
					}
				},
				Op: func(in []byte) { f(in) },
			}, nil
		},
	}
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	fill(rng, b)
	return b
}

func fill(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}
