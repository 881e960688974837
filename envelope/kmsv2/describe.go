package kmsv2

import "fmt"

// Info describes a stored KMS v2 payload as far as it can be told without
// the plugin. The provider name is not in the payload but in the value's
// prefix, which the envelope package parses. Nothing in it is secret: the
// annotations' values, which are the plugin's data, are given by size only.
type Info struct {
	KeyID         string        // the KMS key (KEK) the DEK source is encrypted under
	DEKSourceType DEKSourceType // AES_GCM_KEY or HKDF_SHA256_XNONCE_AES_GCM_SEED
	// DEKSource identifies the DEK or seed: SHA-256 of kube-apiserver's DEK
	// cache key (type, encrypted DEK source, key ID, annotations). Values
	// written with the same DEK or seed have the same DEKSource; a
	// kube-apiserver makes one per start and per key ID change.
	DEKSource          [32]byte
	EncryptedDEKSource int              // bytes of the plugin's ciphertext of the DEK or seed
	Annotations        []AnnotationInfo // by key
	AnnotationBytes    int              // keys and values
	EncryptedData      int              // bytes of encryptedData
	// Plaintext is the size encryptedData decrypts to if it authenticates:
	// EncryptedData - Overhead(DEKSourceType).
	Plaintext int
}

// AnnotationInfo is one annotation of a payload: its key, and the size of
// its value.
type AnnotationInfo struct {
	Key   string
	Value int // bytes
}

// Describe parses payload (the bytes after k8s:enc:kms:v2:<name>:) with
// Parse and describes it. It fails with Parse's errors, and with
// ErrShortData when the data is shorter than its layout's overhead (the
// Info is then filled but for Plaintext).
func Describe(payload []byte) (Info, error) {
	o, err := Parse(payload)
	if err != nil {
		return Info{}, err
	}
	return o.Info()
}

// Info describes o; see Describe.
func (o *Object) Info() (Info, error) {
	in := Info{
		KeyID:              string(o.KeyID),
		DEKSourceType:      o.DEKSourceType,
		DEKSource:          cacheKeyHash(o.DEKSourceType, o.EncryptedDEKSource, o.KeyID, o.Annotations),
		EncryptedDEKSource: len(o.EncryptedDEKSource),
		EncryptedData:      len(o.EncryptedData),
		Plaintext:          len(o.EncryptedData) - Overhead(o.DEKSourceType),
	}
	for _, a := range o.Annotations {
		in.Annotations = append(in.Annotations, AnnotationInfo{Key: string(a.Key), Value: len(a.Value)})
		in.AnnotationBytes += len(a.Key) + len(a.Value)
	}
	if in.Plaintext < 0 {
		in.Plaintext = 0
		return in, fmt.Errorf("%w: %d bytes of %s data, shorter than its %d bytes of overhead", ErrShortData, in.EncryptedData, o.DEKSourceType, Overhead(o.DEKSourceType))
	}
	return in, nil
}
