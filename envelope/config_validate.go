package envelope

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// validate applies kube-apiserver's ValidateEncryptionConfiguration rules,
// in its order, with its messages, but never quotes a value.
func validate(fc *fileConfig) []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	if len(fc.Resources) == 0 {
		add("resources", "at least one resources is required")
		return errs
	}
	kmsNames := map[string]bool{}
	for i, rc := range fc.Resources {
		r := fmt.Sprintf("resources[%d].resources", i)
		p := fmt.Sprintf("resources[%d].providers", i)
		if len(rc.Resources) == 0 {
			add(r, "at least one %s is required", r)
		}
		errs = append(errs, validateOverlap(rc.Resources, r)...)
		errs = append(errs, validateResourceNames(rc.Resources, r)...)
		if len(rc.Providers) == 0 {
			add(p, "at least one %s is required", p)
		}
		for j, pc := range rc.Providers {
			path := fmt.Sprintf("%s[%d]", p, j)
			n := 0
			for _, set := range []bool{pc.KMS != nil, pc.AESGCM != nil, pc.AESCBC != nil, pc.Secretbox != nil, pc.Identity != nil} {
				if set {
					n++
				}
			}
			switch {
			case n == 0:
				add(path, "provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity")
			case n > 1:
				add(path, "more than one provider specified in a single element, should split into different list elements")
			}
			switch {
			case pc.KMS != nil:
				errs = append(errs, validateKMS(pc.KMS, path+".kms", kmsNames)...)
				kmsNames[pc.KMS.Name] = true
			case pc.AESGCM != nil:
				errs = append(errs, validateKeys(pc.AESGCM.Keys, path+".aesgcm.keys", aesKeySizes)...)
			case pc.AESCBC != nil:
				errs = append(errs, validateKeys(pc.AESCBC.Keys, path+".aescbc.keys", aesKeySizes)...)
			case pc.Secretbox != nil:
				errs = append(errs, validateKeys(pc.Secretbox.Keys, path+".secretbox.keys", secretboxKeySizes)...)
			}
		}
	}
	return errs
}

var (
	aesKeySizes       = []int{16, 24, 32}
	secretboxKeySizes = []int{32}
)

func validateOverlap(resources []string, field string) []FieldError {
	if len(resources) < 2 {
		return nil
	}
	var dup, overlap bool
	for i, a := range resources {
		r1 := parseGroupResource(a)
		for j, b := range resources {
			r2 := parseGroupResource(b)
			switch {
			case i == j:
			case r1 == r2 && !dup:
				dup = true
			case overlap:
			case r1 == anyGroupAnyResource:
				overlap = true
			case r1.group != r2.group:
			case r1.resource == "*" || r2.resource == "*":
				overlap = true
			}
		}
	}
	var errs []FieldError
	if dup {
		errs = append(errs, FieldError{field, "the same resource cannot be specified multiple times"})
	}
	if overlap {
		errs = append(errs, FieldError{field, "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked"})
	}
	return errs
}

func validateResourceNames(resources []string, field string) []FieldError {
	var errs []FieldError
	for j, res := range resources {
		f := fmt.Sprintf("%s[%d]", field, j)
		gr := parseGroupResource(res)
		var msg string
		switch {
		case strings.ToLower(res) != res:
			msg = "resource name should not contain capital letters"
		case res == "*":
			msg = "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources"
		case res == "apiserveripinfo" || res == "serviceipallocations" || res == "servicenodeportallocations":
			msg = "resources which do not have REST API/s cannot be encrypted"
		case gr.group == "events.k8s.io":
			msg = "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file"
		case gr.group == "extensions":
			msg = "'extensions' group has been removed and cannot be used for encryption"
		case gr.group == "*" && gr.resource != "*":
			msg = "encrypting the same resource across groups is not supported"
		default:
			continue
		}
		errs = append(errs, FieldError{f, msg})
	}
	return errs
}

func validateKeys(keys []keyConfig, field string, sizes []int) []FieldError {
	if len(keys) == 0 {
		return []FieldError{{field, "at least one keys is required"}}
	}
	var errs []FieldError
	for i, k := range keys {
		f := fmt.Sprintf("%s[%d]", field, i)
		if k.Name == "" {
			errs = append(errs, FieldError{f + ".name", "name is a mandatory field for a key"})
		}
		if k.Secret == "" {
			errs = append(errs, FieldError{f + ".secret", "secret is a mandatory field for a key"})
			continue
		}
		key, err := base64.StdEncoding.DecodeString(k.Secret)
		if err != nil {
			errs = append(errs, FieldError{f + ".secret", "secrets must be base64 encoded"})
			continue
		}
		if !slices.Contains(sizes, len(key)) {
			errs = append(errs, FieldError{f + ".secret", fmt.Sprintf("secret is not of the expected length, got %d, expected one of %v", len(key), sizes)})
		}
		clear(key)
	}
	return errs
}

func validateKMS(k *kmsConfig, field string, names map[string]bool) []FieldError {
	var errs []FieldError
	add := func(sub, msg string) { errs = append(errs, FieldError{field + "." + sub, msg}) }
	if k.Name == "" {
		add("name", "name is a mandatory field for a provider")
	}
	if k.APIVersion != "v1" && strings.Contains(k.Name, ":") {
		add("name", fmt.Sprintf("invalid KMS provider name %s, must not contain ':'", quoteName(k.Name)))
	}
	if k.APIVersion != "v1" && names[k.Name] {
		add("name", fmt.Sprintf("duplicate KMS provider name %s, names must be unique", quoteName(k.Name)))
	}
	if k.Timeout.Duration <= 0 {
		add("timeout", "timeout should be a positive value")
	}
	switch u, err := url.Parse(k.Endpoint); {
	case k.Endpoint == "":
		add("endpoint", "endpoint is a mandatory field for a kms")
	case err != nil:
		add("endpoint", "invalid endpoint for kms provider")
	case u.Scheme != "unix":
		add("endpoint", fmt.Sprintf("unsupported scheme %s for KMS provider, only unix is supported", quoteName(u.Scheme)))
	}
	if k.APIVersion != "v1" && k.CacheSize != nil {
		add("cachesize", "cachesize is not supported in v2")
	}
	if k.APIVersion == "v1" && k.CacheSize != nil && *k.CacheSize == 0 {
		add("cachesize", "cachesize should be a positive value, or negative to disable")
	}
	if k.APIVersion != "v1" && k.APIVersion != "v2" {
		add("apiVersion", "unsupported apiVersion apiVersion for KMS provider, only v1 and v2 are supported")
	}
	return errs
}
