package envelope

import (
	"errors"

	"github.com/atrest-dev/atrest/envelope/kmsv2"
)

// kmsEntries builds the entry of a kms provider (apiVersion v2, validated):
// a kmsv2.Provider for the plugin at its endpoint, with its timeout. It
// does not connect; the plugin is first called when the entry is used.
func kmsEntries(k *kmsConfig, field string) ([]Entry, error) {
	p, err := kmsv2.Dial(k.Name, k.Endpoint, kmsv2.WithTimeout(k.Timeout.Duration))
	if err != nil {
		return nil, &ConfigError{Fields: []FieldError{{field + ".kms.endpoint", "invalid endpoint for kms provider"}}}
	}
	return []Entry{{Provider: KMSv2, Name: k.Name, Cipher: kmsCipher{p}}}, nil
}

// kmsCipher is a KMS v2 provider in a chain. Its errors that mean the plugin
// cannot be used now (kmsv2.ErrUnavailable) also match ErrUnsupported, so
// that callers counting values they cannot check (scan, rotate) count those
// of a plugin that is down the same way.
type kmsCipher struct{ *kmsv2.Provider }

func (k kmsCipher) Seal(dst, plaintext, ad []byte) ([]byte, error) {
	out, err := k.Provider.Seal(dst, plaintext, ad)
	return out, unavailable(err)
}

func (k kmsCipher) Open(dst, payload, ad []byte) ([]byte, error) {
	out, err := k.Provider.Open(dst, payload, ad)
	return out, unavailable(err)
}

func (k kmsCipher) OpenStale(dst, payload, ad []byte) ([]byte, bool, error) {
	out, stale, err := k.Provider.OpenStale(dst, payload, ad)
	return out, stale, unavailable(err)
}

func unavailable(err error) error {
	if errors.Is(err, kmsv2.ErrUnavailable) {
		return unsupportedError{err}
	}
	return err
}

// unsupportedError is err, also matching ErrUnsupported. It does not add
// ErrUnsupported's text: the chain already names the entry ("envelope:
// kms/name: ..."), and err says what is wrong with the plugin.
type unsupportedError struct{ error }

func (e unsupportedError) Unwrap() []error { return []error{ErrUnsupported, e.error} }

// KMSProvider returns the KMS v2 provider behind a chain entry, to ask it
// for its current key ID or describe its values; ok is false for entries of
// other providers.
func KMSProvider(e Entry) (p *kmsv2.Provider, ok bool) {
	k, ok := e.Cipher.(kmsCipher)
	return k.Provider, ok
}

// Close closes the connections of the configuration's KMS providers. The
// chains' other entries keep working; the KMS entries fail from then on.
func (c *Config) Close() error {
	var errs []error
	seen := map[*kmsv2.Provider]bool{}
	for _, ch := range c.rules {
		for _, e := range ch.entries {
			if p, ok := KMSProvider(e.Entry); ok && !seen[p] {
				seen[p] = true
				errs = append(errs, p.Close())
			}
		}
	}
	return errors.Join(errs...)
}
