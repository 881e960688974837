package envelope

import (
	"errors"
	"strconv"
	"time"
)

// The two kinds kube-apiserver decodes an encryption configuration as.
const (
	APIVersion       = "apiserver.config.k8s.io/v1"
	Kind             = "EncryptionConfiguration"
	LegacyAPIVersion = "v1"               // registered "due to a docs bug"
	LegacyKind       = "EncryptionConfig" // with LegacyAPIVersion only
)

// The file format, as kube-apiserver's apiserver.config.k8s.io/v1 types
// define it. Field names are matched case-sensitively; unknown and duplicate
// fields are errors.
type fileConfig struct {
	Kind       string           `json:"kind"`
	APIVersion string           `json:"apiVersion"`
	Resources  []resourceConfig `json:"resources"`
}

type resourceConfig struct {
	Resources []string         `json:"resources"`
	Providers []providerConfig `json:"providers"`
}

type providerConfig struct {
	AESGCM    *keysConfig `json:"aesgcm,omitempty"`
	AESCBC    *keysConfig `json:"aescbc,omitempty"`
	Secretbox *keysConfig `json:"secretbox,omitempty"`
	Identity  *struct{}   `json:"identity,omitempty"`
	KMS       *kmsConfig  `json:"kms,omitempty"`
}

type keysConfig struct {
	Keys []keyConfig `json:"keys"`
}

type keyConfig struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

type kmsConfig struct {
	APIVersion string    `json:"apiVersion"`
	Name       string    `json:"name"`
	CacheSize  *int32    `json:"cachesize,omitempty"`
	Endpoint   string    `json:"endpoint"`
	Timeout    *duration `json:"timeout,omitempty"`
}

// duration decodes like metav1.Duration: a string for time.ParseDuration.
type duration struct{ time.Duration }

func (d *duration) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return errors.New("timeout must be a duration string such as \"3s\"")
	}
	d.Duration, err = time.ParseDuration(s)
	return err
}

func setDefaults(fc *fileConfig) {
	for i := range fc.Resources {
		for _, p := range fc.Resources[i].Providers {
			if k := p.KMS; k != nil {
				if k.Timeout == nil {
					k.Timeout = &duration{3 * time.Second}
				}
				if k.APIVersion == "" {
					k.APIVersion = "v1"
				}
				if k.CacheSize == nil && k.APIVersion == "v1" {
					c := int32(1000)
					k.CacheSize = &c
				}
			}
		}
	}
}
