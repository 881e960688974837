package scan

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/envelope/kmsv2"
)

// KMSKey is the use of one KMS v2 key (KEK) by one provider, for one DEK
// source type: the values whose payload names them, counted from the
// payload (kmsv2.Describe) whether or not the plugin could decrypt them.
type KMSKey struct {
	Provider string `json:"provider"` // kms/<provider name>
	// KeyID and DEKSourceType are the payload's; both are empty for
	// payloads that are not a valid EncryptedObject (all unreadable).
	KeyID         string `json:"keyID"`
	DEKSourceType string `json:"dekSourceType"`
	// Current is whether KeyID and DEKSourceType are what the provider
	// writes now: values of a key that is not current are stale. It is
	// null when the plugin could not be asked, or no entry of the
	// configuration names the provider.
	Current *bool `json:"current"`
	Values  int   `json:"values"`
	Bytes   int64 `json:"bytes"`
	// DEKSources are the distinct DEKs or seeds the values were written
	// with (kmsv2.Info.DEKSource), the most used first. kube-apiserver
	// makes one per start and per key ID change, and every value it writes
	// meanwhile shares it; the plugin decrypts each once.
	DEKSources []DEKSource `json:"dekSources"`
	// Of Values: read (decrypted through the plugin), stale among those
	// read, unreadable (no key or plugin reads them), and unchecked (the
	// plugin was unreachable).
	Read       int `json:"read"`
	Stale      int `json:"stale"`
	Unreadable int `json:"unreadable"`
	Unchecked  int `json:"unchecked"`

	sources map[[32]byte]int
}

// DEKSource is one DEK or seed and how many values it protects.
type DEKSource struct {
	ID     string `json:"id"` // hex of kmsv2.Info.DEKSource
	Values int    `json:"values"`
}

// KMSPlugin is what the scan learnt of one KMS v2 provider's plugin, asked
// when the scan ended.
type KMSPlugin struct {
	Provider   string `json:"provider"`   // kms/<provider name>
	Configured bool   `json:"configured"` // an entry of the configuration names it
	Reachable  bool   `json:"reachable"`
	// What the provider writes now, when the plugin is reachable.
	CurrentKeyID         string `json:"currentKeyID,omitempty"`
	CurrentDEKSourceType string `json:"currentDEKSourceType,omitempty"`
	// Error says why the plugin could not be asked.
	Error string `json:"error,omitempty"`
}

// kmsAudit collects the KMS v2 values of a scan.
type kmsAudit struct {
	keys      map[kmsRow]*KMSKey
	providers map[string]*kmsv2.Provider // by label; nil when not configured
}

type kmsRow struct{ provider, keyID, typ string }

// add counts stored if it is a KMS v2 value, and returns its row (nil for
// other values). idx is the chain entry that read it, or -1.
func (a *kmsAudit) add(stored []byte, ch *envelope.Chain, idx int) *KMSKey {
	label, payload, p, ok := kmsOf(stored, ch, idx)
	if !ok {
		return nil
	}
	if a.keys == nil {
		a.keys, a.providers = map[kmsRow]*KMSKey{}, map[string]*kmsv2.Provider{}
	}
	if a.providers[label] == nil {
		a.providers[label] = p
	}
	row := kmsRow{provider: label}
	in, err := kmsv2.Describe(payload)
	valid := err == nil || in.KeyID != "" // ErrShortData: the object parsed
	if valid {
		row.keyID, row.typ = in.KeyID, in.DEKSourceType.String()
	}
	k := a.keys[row]
	if k == nil {
		k = &KMSKey{Provider: label, KeyID: row.keyID, DEKSourceType: row.typ, sources: map[[32]byte]int{}}
		a.keys[row] = k
	}
	k.Values++
	k.Bytes += int64(len(stored))
	if valid {
		k.sources[in.DEKSource]++
	}
	return k
}

// kmsOf returns the label and payload of a KMS v2 value, and the provider of
// its configured entry (nil if none): the entry that read it (idx >= 0),
// else the configured entry its prefix matches, else what ParsePrefix reads.
func kmsOf(stored []byte, ch *envelope.Chain, idx int) (label string, payload []byte, p *kmsv2.Provider, ok bool) {
	var e envelope.Entry
	if idx >= 0 {
		e = ch.Entries()[idx]
	} else if m := ch.Match(stored); m.Index >= 0 {
		e = m.Entry
	} else {
		pr, err := envelope.ParsePrefix(stored)
		if err != nil || pr.Provider != envelope.KMSv2 {
			return "", nil, nil, false
		}
		return pr.String(), stored[pr.Len:], nil, true
	}
	if e.Provider != envelope.KMSv2 {
		return "", nil, nil, false
	}
	p, _ = envelope.KMSProvider(e)
	return e.String(), stored[len(e.Prefix()):], p, true
}

// finish asks each configured provider what it writes now, marks the rows
// current or not, and fills the report's KMS sections and warnings.
func (a *kmsAudit) finish(rep *Report) {
	rep.KMS, rep.KMSPlugins = []*KMSKey{}, []*KMSPlugin{}
	unchecked := map[string]int{}
	for _, k := range a.keys {
		unchecked[k.Provider] += k.Unchecked
	}
	for label, p := range a.providers {
		pl := &KMSPlugin{Provider: label, Configured: p != nil}
		if p != nil {
			id, typ, err := p.Current()
			if err != nil {
				pl.Error = err.Error()
			} else {
				pl.Reachable, pl.CurrentKeyID, pl.CurrentDEKSourceType = true, id, typ.String()
			}
		}
		rep.KMSPlugins = append(rep.KMSPlugins, pl)
		if p != nil && !pl.Reachable {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf(
				"the KMS plugin of %s is unreachable: %d of its values unchecked (counted per key ID from their payloads, not decrypted): %s",
				quote(label), unchecked[label], pl.Error))
		}
	}
	slices.SortFunc(rep.KMSPlugins, func(x, y *KMSPlugin) int { return strings.Compare(x.Provider, y.Provider) })
	current := map[string]*KMSPlugin{}
	for _, pl := range rep.KMSPlugins {
		if pl.Reachable {
			current[pl.Provider] = pl
		}
	}
	for _, k := range a.keys {
		if pl := current[k.Provider]; pl != nil && k.KeyID != "" {
			c := k.KeyID == pl.CurrentKeyID && k.DEKSourceType == pl.CurrentDEKSourceType
			k.Current = &c
		}
		k.DEKSources = make([]DEKSource, 0, len(k.sources))
		for id, n := range k.sources {
			k.DEKSources = append(k.DEKSources, DEKSource{ID: hex.EncodeToString(id[:]), Values: n})
		}
		slices.SortFunc(k.DEKSources, func(x, y DEKSource) int {
			return cmp.Or(cmp.Compare(y.Values, x.Values), strings.Compare(x.ID, y.ID))
		})
		rep.KMS = append(rep.KMS, k)
	}
	slices.SortFunc(rep.KMS, func(x, y *KMSKey) int {
		return cmp.Or(strings.Compare(x.Provider, y.Provider), strings.Compare(x.KeyID, y.KeyID), strings.Compare(x.DEKSourceType, y.DEKSourceType))
	})
}
