package envelope_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrest-dev/atrest/envelope"
)

const (
	k32 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes
	k16 = "c2VjcmV0IGlzIHNlY3VyZQ=="                     // 16 bytes
	k8  = "MTIzNDU2Nzg="                                 // 8 bytes
)

const head = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"

// configCases are configurations with what atrest must say of them: "" for
// valid, else a field path and a piece of the message. The differential
// test checks kube-apiserver accepts and refuses the same ones.
var configCases = []struct {
	name, yaml, field, msg string
}{
	{"valid", head + `resources:
- resources: [secrets, configmaps]
  providers:
  - aescbc: {keys: [{name: k1, secret: ` + k32 + `}, {name: k2, secret: ` + k16 + `}]}
  - aesgcm: {keys: [{name: k1, secret: ` + k16 + `}]}
  - secretbox: {keys: [{name: k1, secret: ` + k32 + `}]}
  - identity: {}
- resources: ['*.apps', '*.']
  providers:
  - identity: {}
`, "", ""},
	{"legacy kind", "kind: EncryptionConfig\napiVersion: v1\nresources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n", "", ""},
	{"json", `{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":["secrets"],"providers":[{"identity":{}}]}]}`, "", ""},
	{"wildcards across lists", head + "resources:\n- resources: [secrets]\n  providers: [{identity: {}}]\n- resources: ['*.*']\n  providers: [{identity: {}}]\n", "", ""},
	{"same resource in two lists", head + "resources:\n- resources: [secrets]\n  providers: [{identity: {}}]\n- resources: [secrets]\n  providers: [{aesgcm: {keys: [{name: a, secret: " + k16 + "}]}}]\n", "", ""},
	{"duplicate key names", head + "resources:\n- resources: [secrets]\n  providers: [{aescbc: {keys: [{name: a, secret: " + k16 + "}, {name: a, secret: " + k32 + "}]}}]\n", "", ""},
	{"colon in key name", head + "resources:\n- resources: [secrets]\n  providers: [{aescbc: {keys: [{name: 'a:b', secret: " + k16 + "}]}}]\n", "", ""},
	{"kms v2", head + "resources:\n- resources: [secrets]\n  providers:\n  - kms: {apiVersion: v2, name: p, endpoint: 'unix:///tmp/kms.sock'}\n  - identity: {}\n", "", ""},

	{"empty", "", "", "empty"},
	{"no kind", "resources: []\n", "", "apiVersion and kind are required"},
	{"wrong kind", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfig\nresources: []\n", "", "unsupported apiVersion"},
	{"unknown field", head + "resources:\n- resources: [secrets]\n  providers: [{identity: {}}]\n  extra: 1\n", "", `unknown field "resources[0].extra"`},
	{"field in wrong case", head + "Resources:\n- resources: [secrets]\n  providers: [{identity: {}}]\n", "", `unknown field "Resources"`},
	{"duplicate field", head + "resources:\n- resources: [secrets]\n  resources: [configmaps]\n  providers: [{identity: {}}]\n", "", "already set"},
	{"no resources", head + "resources: []\n", "resources", "at least one resources is required"},
	{"no resource names", head + "resources:\n- resources: []\n  providers: [{identity: {}}]\n", "resources[0].resources", "at least one"},
	{"no providers", head + "resources:\n- resources: [secrets]\n  providers: []\n", "resources[0].providers", "at least one"},
	{"two providers in one element", head + "resources:\n- resources: [secrets]\n  providers: [{identity: {}, aescbc: {keys: [{name: a, secret: " + k32 + "}]}}]\n", "resources[0].providers[0]", "more than one provider"},
	{"empty provider", head + "resources:\n- resources: [secrets]\n  providers: [{}]\n", "resources[0].providers[0]", "does not contain any of the expected providers"},
	{"no keys", head + "resources:\n- resources: [secrets]\n  providers: [{aesgcm: {keys: []}}]\n", "resources[0].providers[0].aesgcm.keys", "at least one keys is required"},
	{"no key name", head + "resources:\n- resources: [secrets]\n  providers: [{aescbc: {keys: [{secret: " + k32 + "}]}}]\n", "resources[0].providers[0].aescbc.keys[0].name", "name is a mandatory field"},
	{"no secret", head + "resources:\n- resources: [secrets]\n  providers: [{aescbc: {keys: [{name: a}]}}]\n", "resources[0].providers[0].aescbc.keys[0].secret", "secret is a mandatory field"},
	{"not base64", head + "resources:\n- resources: [secrets]\n  providers: [{aescbc: {keys: [{name: a, secret: 'not*base64'}]}}]\n", "resources[0].providers[0].aescbc.keys[0].secret", "base64"},
	{"short aes key", head + "resources:\n- resources: [secrets]\n  providers: [{aesgcm: {keys: [{name: a, secret: " + k8 + "}]}}]\n", "resources[0].providers[0].aesgcm.keys[0].secret", "got 8, expected one of [16 24 32]"},
	{"16-byte secretbox key", head + "resources:\n- resources: [secrets]\n  providers: [{secretbox: {keys: [{name: a, secret: " + k16 + "}]}}]\n", "resources[0].providers[0].secretbox.keys[0].secret", "got 16, expected one of [32]"},
	{"star", head + "resources:\n- resources: ['*']\n  providers: [{identity: {}}]\n", "resources[0].resources[0]", "use '*.'"},
	{"capital", head + "resources:\n- resources: [Secrets]\n  providers: [{identity: {}}]\n", "resources[0].resources[0]", "capital"},
	{"resource across groups", head + "resources:\n- resources: ['secrets.*']\n  providers: [{identity: {}}]\n", "resources[0].resources[0]", "across groups"},
	{"events group", head + "resources:\n- resources: [events.events.k8s.io]\n  providers: [{identity: {}}]\n", "resources[0].resources[0]", "events"},
	{"extensions group", head + "resources:\n- resources: [deployments.extensions]\n  providers: [{identity: {}}]\n", "resources[0].resources[0]", "extensions"},
	{"no REST API", head + "resources:\n- resources: [serviceipallocations]\n  providers: [{identity: {}}]\n", "resources[0].resources[0]", "REST"},
	{"duplicate resource", head + "resources:\n- resources: [secrets, secrets]\n  providers: [{identity: {}}]\n", "resources[0].resources", "the same resource cannot be specified multiple times"},
	{"overlap", head + "resources:\n- resources: [secrets, '*.']\n  providers: [{identity: {}}]\n", "resources[0].resources", "overlapping"},
	{"masked", head + "resources:\n- resources: ['*.*']\n  providers: [{identity: {}}]\n- resources: [secrets]\n  providers: [{identity: {}}]\n", "resources[1].resources[0]", `masked by earlier rule "*.*"`},
	{"masked by group", head + "resources:\n- resources: ['*.apps']\n  providers: [{identity: {}}]\n- resources: [deployments.apps]\n  providers: [{identity: {}}]\n", "resources[1].resources[0]", `masked by earlier rule "*.apps"`},
	{"kms v1", head + "resources:\n- resources: [secrets]\n  providers: [{kms: {name: p, endpoint: 'unix:///tmp/k.sock'}}]\n", "resources[0].providers[0].kms.apiVersion", "KMSv1"},
	{"kms tcp", head + "resources:\n- resources: [secrets]\n  providers: [{kms: {apiVersion: v2, name: p, endpoint: 'tcp://x:1'}}]\n", "resources[0].providers[0].kms.endpoint", "only unix"},
	{"kms v2 cachesize", head + "resources:\n- resources: [secrets]\n  providers: [{kms: {apiVersion: v2, name: p, endpoint: 'unix:///k', cachesize: 10}}]\n", "resources[0].providers[0].kms.cachesize", "not supported in v2"},
	{"kms v2 colon", head + "resources:\n- resources: [secrets]\n  providers: [{kms: {apiVersion: v2, name: 'a:b', endpoint: 'unix:///k'}}]\n", "resources[0].providers[0].kms.name", "must not contain ':'"},
	{"kms v2 duplicate", head + "resources:\n- resources: [secrets]\n  providers: [{kms: {apiVersion: v2, name: p, endpoint: 'unix:///k'}}, {kms: {apiVersion: v2, name: p, endpoint: 'unix:///k'}}]\n", "resources[0].providers[1].kms.name", "duplicate KMS provider name"},
	{"kms zero timeout", head + "resources:\n- resources: [secrets]\n  providers: [{kms: {apiVersion: v2, name: p, endpoint: 'unix:///k', timeout: 0s}}]\n", "resources[0].providers[0].kms.timeout", "positive"},
}

func TestParseConfig(t *testing.T) {
	for _, c := range configCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := envelope.ParseConfig([]byte(c.yaml))
			if c.msg == "" {
				if err != nil {
					t.Fatalf("valid config refused: %v", err)
				}
				return
			}
			if !errors.Is(err, envelope.ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
			ce, ok := errors.AsType[*envelope.ConfigError](err)
			if !ok {
				t.Fatalf("err is %T", err)
			}
			found := false
			for _, f := range ce.Fields {
				if f.Field == c.field && strings.Contains(f.Msg, c.msg) {
					found = true
				}
			}
			if !found {
				t.Fatalf("err = %v\nwant field %q with %q", err, c.field, c.msg)
			}
			for _, secret := range []string{k32, k16, k8, "not*base64", "0123456789abcdef"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error quotes key material: %v", err)
				}
			}
		})
	}
}

// TestParseConfigAgreesWithKube loads every case with kube-apiserver's loader.
func TestParseConfigAgreesWithKube(t *testing.T) {
	for _, c := range configCases {
		t.Run(c.name, func(t *testing.T) {
			_, kerr := kubeLoad(t, c.yaml)
			if c.msg == "" && kerr != nil {
				t.Fatalf("kube-apiserver refuses a config atrest accepts: %v", kerr)
			}
			if c.msg != "" && kerr == nil {
				t.Fatalf("kube-apiserver accepts a config atrest refuses")
			}
		})
	}
}

func TestLoadConfigNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "enc.yaml")
	os.WriteFile(path, []byte(configCases[len(configCases)-1].yaml), 0o600)
	_, err := envelope.LoadConfig(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Fatalf("err = %v", err)
	}
	if _, err := envelope.LoadConfig(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestForResolvesWildcards(t *testing.T) {
	cfg, err := envelope.ParseConfig([]byte(head + `resources:
- resources: [secrets]
  providers: [{aesgcm: {keys: [{name: s, secret: ` + k16 + `}]}}]
- resources: ['*.apps']
  providers: [{aescbc: {keys: [{name: a, secret: ` + k16 + `}]}}]
- resources: ['*.']
  providers: [{secretbox: {keys: [{name: c, secret: ` + k32 + `}]}}]
- resources: ['*.*']
  providers: [{aescbc: {keys: [{name: all, secret: ` + k32 + `}]}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	for res, want := range map[string]string{
		"secrets":                      "aesgcm/s",
		"deployments.apps":             "aescbc/a",
		"configmaps":                   "secretbox/c",
		"widgets.example.com":          "aescbc/all",
		"pandas.awesome.bears.example": "aescbc/all",
	} {
		ch, err := cfg.For(res)
		if err != nil {
			t.Fatal(err)
		}
		if got := ch.Entries()[0].String(); got != want {
			t.Errorf("For(%q) writes with %s, want %s", res, got, want)
		}
	}
	if got := cfg.Resources(); strings.Join(got, ",") != "secrets,*.apps,*.,*.*" {
		t.Errorf("Resources = %v", got)
	}
	if _, err := cfg.For("*"); err == nil {
		t.Error("For(\"*\") accepted")
	}
	idOnly, _ := envelope.ParseConfig([]byte(head + "resources:\n- resources: [secrets]\n  providers: [{identity: {}}]\n"))
	ch, _ := idOnly.For("configmaps")
	if ch.Entries()[0].Provider != envelope.Identity {
		t.Error("unconfigured resource is not identity")
	}
}

func TestSameResourceInTwoListsChains(t *testing.T) {
	cfg, err := envelope.ParseConfig([]byte(configCases[4].yaml))
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := cfg.For("secrets")
	es := ch.Entries()
	if len(es) != 2 || es[0].Provider != envelope.Identity || es[1].Provider != envelope.AESGCM {
		t.Fatalf("entries = %v", es)
	}
}

func TestKMSv2Unsupported(t *testing.T) {
	cfg, err := envelope.ParseConfig([]byte(configCases[7].yaml))
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := cfg.For("secrets")
	if _, err := ch.Encrypt(nil, []byte("x"), nil); !errors.Is(err, envelope.ErrUnsupported) {
		t.Fatalf("Encrypt err = %v", err)
	}
	// Plain values still read through the identity entry.
	if got, stale, err := ch.Decrypt(nil, []byte("x"), nil); err != nil || !stale || string(got) != "x" {
		t.Fatalf("Decrypt = %q, %v, %v", got, stale, err)
	}
	if m := ch.Match([]byte("k8s:enc:kms:v2:p:payload")); m.Index != 0 || m.Entry.Provider != envelope.KMSv2 {
		t.Fatalf("Match = %+v", m)
	}
}

// TestDecodeErrorsQuoteNoValue feeds documents whose decoder errors quote
// keys or values (found by FuzzParseConfig) and checks the secret-looking
// value never reaches the error.
// TestDecodeErrorsQuoteNoStrayKey: a key that lost its "secret:" and became
// a field name is not quoted, whatever its size; a name too short to be a
// whole key and shaped like a field name is, so typos stay easy to find.
func TestDecodeErrorsQuoteNoStrayKey(t *testing.T) {
	const k24 = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4" // 24 bytes: 32 characters, no '='
	keys := head + "resources:\n- resources: [secrets]\n  providers: [{aescbc: {keys: [{name: a, %s: 1}]}}]\n"
	for _, k := range []string{k16, k24, k32, "0000000A"} {
		for _, c := range []struct{ doc, want string }{
			{strings.Replace(keys, "%s", k, 1), "under \"resources[0].providers[0].aescbc.keys[0]\""},
			{head + "resources:\n- resources: [secrets]\n  providers: [{identity: {}}]\n  " + k + ": 1\n  " + k + ": 2\n", "line 7"},
		} {
			_, err := envelope.ParseConfig([]byte(c.doc))
			if err == nil || strings.Contains(err.Error(), k) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%q: error %v, want one with %s and without the name", c.doc, err, c.want)
			}
		}
	}
	_, err := envelope.ParseConfig([]byte(strings.Replace(keys, "%s", "secrte", 1)))
	if want := `unknown field "resources[0].providers[0].aescbc.keys[0].secrte"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("typo: error %v, want %s", err, want)
	}
}

func TestDecodeErrorsQuoteNoValue(t *testing.T) {
	const v = "c2VjcmV0dmFsdWU0Mg"
	for _, doc := range []string{
		`{[{"secret":` + v + `}]}`,
		"{? [a]\n: b, 0: [{x: 1}], secret: " + v + "}\n",
		"{? null\n: {\"000000 secret\": \"" + v + "\", 0: [{\"a:b\": null}]}}\n",
		head + "resources:\n- resources: [secrets]\n  providers: [{aescbc: {keys: [{name: a, secret: [" + v + "]}]}}]\n",
		head + "resources: " + v + "\n",
		// A quoted scalar that runs on over the next line takes it along.
		"kind: EncryptionConfiguration\napiVersion: \"x\n  secret: " + v + "\"\nresources: []\n",
		"kind: \"x\n  secret: " + v + "\"\napiVersion: v1\nresources: []\n",
		head + "resources:\n- resources: [secrets]\n  providers:\n  - kms:\n      apiVersion: v2\n      endpoint: unix:///k\n      name: \"a:\n        secret: " + v + "\"\n",
	} {
		_, err := envelope.ParseConfig([]byte(doc))
		if err == nil {
			t.Fatalf("accepted %q", doc)
		}
		if strings.Contains(err.Error(), v) || strings.Contains(err.Error(), "0000000A") {
			t.Fatalf("error quotes a value: %v", err)
		}
	}
}
