package bench

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"

	"golang.org/x/crypto/nacl/secretbox"
	"k8s.io/apiserver/pkg/storage/value"

	"github.com/atrest-dev/atrest/aead"
	"github.com/atrest-dev/atrest/cbc"
	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// transformer is one implementation of one chain: encrypt writes with the
// first key, decrypt reads with any. Implementations that can append to dst
// do; the kubernetes one allocates its result, as the apiserver does.
type transformer interface {
	encrypt(dst, plaintext []byte) ([]byte, error)
	decrypt(dst, stored []byte) ([]byte, error)
}

// etcdKey is the additional data aesgcm binds every value to.
var etcdKey = []byte("/registry/secrets/default/atrest-bench")

// benchKey is a fixed, public key: the benchmark measures, it protects nothing.
type benchKey struct {
	name   string
	secret []byte
}

func keys(provider string, n int) []benchKey {
	out := make([]benchKey, n)
	for i := range out {
		k := make([]byte, 32)
		for j := range k {
			k[j] = byte(i*64 + j + len(provider))
		}
		out[i] = benchKey{name: fmt.Sprintf("key%d", i+1), secret: k}
	}
	return out
}

// newTransformer builds implementation impl of a chain of provider with the
// given keys (ignored for identity). impl "generic" builds the atrest chain; the
// caller forces the generic paths around its use.
func newTransformer(impl, provider string, ks []benchKey) (transformer, error) {
	switch impl {
	case "atrest", "generic":
		return newAtrest(provider, ks)
	case "kubernetes":
		return newKube(provider, ks)
	case "stdlib":
		return newStdlib(provider, ks)
	}
	return nil, fmt.Errorf("unknown impl %q", impl)
}

// --- atrest ---

type atrestT struct{ c *envelope.Chain }

func newAtrest(provider string, ks []benchKey) (transformer, error) {
	if provider == envelope.Identity {
		c, err := envelope.NewChain(envelope.Entry{Provider: envelope.Identity, Cipher: envelope.IdentityCipher})
		return atrestT{c}, err
	}
	var entries []envelope.Entry
	for _, k := range ks {
		var (
			c   envelope.Cipher
			err error
		)
		switch provider {
		case envelope.AESCBC:
			c, err = cbc.New(k.secret)
		case envelope.AESGCM:
			c, err = aead.NewGCM(k.secret)
		case envelope.Secretbox:
			c, err = aead.NewSecretbox(k.secret)
		default:
			return nil, fmt.Errorf("unknown provider %q", provider)
		}
		if err != nil {
			return nil, err
		}
		entries = append(entries, envelope.Entry{Provider: provider, Name: k.name, Cipher: c})
	}
	c, err := envelope.NewChain(entries...)
	return atrestT{c}, err
}

func (t atrestT) encrypt(dst, pt []byte) ([]byte, error) { return t.c.Encrypt(dst, pt, etcdKey) }

func (t atrestT) decrypt(dst, stored []byte) ([]byte, error) {
	out, _, err := t.c.Decrypt(dst, stored, etcdKey)
	return out, err
}

// --- kubernetes ---

type kubeT struct {
	tr  value.Transformer
	ctx context.Context
	dc  value.Context // converted once: the conversion would allocate per call
}

// newKube loads a configuration of provider with the given keys for secrets
// with kube-apiserver's own loader and uses the transformer it builds: the
// resource's provider list (one provider here) → the provider prefix
// k8s:enc:<provider>:v1: → the key prefixes <name>: → the key's transformer.
func newKube(provider string, ks []benchKey) (transformer, error) {
	p := kubepeer.Identity
	if provider != envelope.Identity {
		p = kubepeer.Provider{Kind: provider}
		for _, k := range ks {
			p.Keys = append(p.Keys, kubepeer.Key{Name: k.name, Secret: base64.StdEncoding.EncodeToString(k.secret)})
		}
	}
	cfg := kubepeer.Config{Rules: []kubepeer.Rule{{Resources: []string{"secrets"}, Providers: []kubepeer.Provider{p}}}}
	dir, err := os.MkdirTemp("", "atrest-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	m, err := kubepeer.Load(context.Background(), dir, []byte(cfg.YAML()))
	if err != nil {
		return nil, err
	}
	return kubeT{
		tr:  m.For("secrets"),
		ctx: context.Background(),
		dc:  value.DefaultContext(etcdKey),
	}, nil
}

func (t kubeT) encrypt(_, pt []byte) ([]byte, error) { return t.tr.TransformToStorage(t.ctx, pt, t.dc) }

func (t kubeT) decrypt(_, stored []byte) ([]byte, error) {
	out, _, err := t.tr.TransformFromStorage(t.ctx, stored, t.dc)
	return out, err
}

// --- stdlib ---

// stdKey is one key's bare primitive and the full prefix it writes.
type stdKey struct {
	prefix []byte
	seal   func(dst, pt []byte) ([]byte, error) // dst holds the prefix; append the payload
	open   func(dst, payload []byte) ([]byte, error)
}

type stdlibT struct{ keys []stdKey }

var errStd = errors.New("stdlib: cannot open value")

func newStdlib(provider string, ks []benchKey) (transformer, error) {
	if provider == envelope.Identity {
		return stdlibT{[]stdKey{{
			prefix: nil,
			seal:   func(dst, pt []byte) ([]byte, error) { return append(dst, pt...), nil },
			open: func(dst, p []byte) ([]byte, error) {
				if bytes.HasPrefix(p, []byte(envelope.EncryptedPrefix)) {
					return nil, errStd
				}
				return append(dst, p...), nil
			},
		}}}, nil
	}
	var out []stdKey
	for _, k := range ks {
		sk := stdKey{prefix: []byte(envelope.EncryptedPrefix + provider + ":v1:" + k.name + ":")}
		switch provider {
		case envelope.AESGCM:
			block, err := aes.NewCipher(k.secret)
			if err != nil {
				return nil, err
			}
			g, err := cipher.NewGCM(block)
			if err != nil {
				return nil, err
			}
			sk.seal = func(dst, pt []byte) ([]byte, error) {
				n := len(dst)
				dst = append(dst, make([]byte, 12)...) // does not allocate when dst has room
				nonce := dst[n : n+12]
				if _, err := rand.Read(nonce); err != nil {
					return nil, err
				}
				return g.Seal(dst, nonce, pt, etcdKey), nil
			}
			sk.open = func(dst, p []byte) ([]byte, error) {
				if len(p) < 12 {
					return nil, errStd
				}
				return g.Open(dst, p[:12], p[12:], etcdKey)
			}
		case envelope.AESCBC:
			block, err := aes.NewCipher(k.secret)
			if err != nil {
				return nil, err
			}
			sk.seal = func(dst, pt []byte) ([]byte, error) {
				pad := aes.BlockSize - len(pt)%aes.BlockSize
				n := len(dst)
				dst = append(dst, make([]byte, aes.BlockSize+len(pt)+pad)...)
				iv, body := dst[n:n+aes.BlockSize], dst[n+aes.BlockSize:]
				if _, err := rand.Read(iv); err != nil {
					return nil, err
				}
				copy(body, pt)
				for i := len(pt); i < len(body); i++ {
					body[i] = byte(pad)
				}
				cipher.NewCBCEncrypter(block, iv).CryptBlocks(body, body)
				return dst, nil
			}
			sk.open = func(dst, p []byte) ([]byte, error) {
				if len(p) < 2*aes.BlockSize || len(p)%aes.BlockSize != 0 {
					return nil, errStd
				}
				n := len(dst)
				dst = append(dst, make([]byte, len(p)-aes.BlockSize)...)
				body := dst[n:]
				cipher.NewCBCDecrypter(block, p[:aes.BlockSize]).CryptBlocks(body, p[aes.BlockSize:])
				pad := int(body[len(body)-1])
				if pad == 0 || pad > aes.BlockSize {
					return nil, errStd
				}
				for _, c := range body[len(body)-pad:] {
					if int(c) != pad {
						return nil, errStd
					}
				}
				return dst[:len(dst)-pad], nil
			}
		case envelope.Secretbox:
			key := [32]byte(k.secret)
			sk.seal = func(dst, pt []byte) ([]byte, error) {
				var nonce [24]byte
				if _, err := rand.Read(nonce[:]); err != nil {
					return nil, err
				}
				return secretbox.Seal(append(dst, nonce[:]...), pt, &nonce, &key), nil
			}
			sk.open = func(dst, p []byte) ([]byte, error) {
				if len(p) < 24+secretbox.Overhead {
					return nil, errStd
				}
				out, ok := secretbox.Open(dst, p[24:], (*[24]byte)(p[:24]), &key)
				if !ok {
					return nil, errStd
				}
				return out, nil
			}
		default:
			return nil, fmt.Errorf("unknown provider %q", provider)
		}
		out = append(out, sk)
	}
	return stdlibT{out}, nil
}

func (t stdlibT) encrypt(dst, pt []byte) ([]byte, error) {
	k := &t.keys[0]
	return k.seal(append(dst, k.prefix...), pt)
}

func (t stdlibT) decrypt(dst, stored []byte) ([]byte, error) {
	for i := range t.keys {
		k := &t.keys[i]
		if bytes.HasPrefix(stored, k.prefix) {
			if out, err := k.open(dst, stored[len(k.prefix):]); err == nil {
				return out, nil
			}
		}
	}
	return nil, errStd
}
