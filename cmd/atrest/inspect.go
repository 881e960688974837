package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/envelope/kmsv2"
)

func init() {
	register(command{
		name:    "inspect",
		summary: "describe a stored value (provider, key, sizes, stale; KMS v2: key ID, DEK source) without decrypting it",
		run:     runInspect,
	})
}

// report is what inspect says of a value; it is also the --json form.
type report struct {
	Provider     string   `json:"provider"`           // identity, aescbc, aesgcm, secretbox, kms, or unknown
	KeyName      string   `json:"keyName,omitempty"`  // key (or KMS plugin) name
	Prefix       string   `json:"prefix"`             //
	Resource     string   `json:"resource,omitempty"` // with --config: the resource whose rule applies
	StoredBytes  int      `json:"storedBytes"`
	PayloadBytes int      `json:"payloadBytes"`
	Layout       string   `json:"layout"`
	PlaintextMin int      `json:"plaintextMinBytes"`
	PlaintextMax int      `json:"plaintextMaxBytes"`
	Entry        int      `json:"entry"`                  // index in the chain, -1 if none matches or no --config
	WriteEntry   string   `json:"writeEntry,omitempty"`   // the chain's write entry
	Stale        *bool    `json:"stale,omitempty"`        // with --config: would kube-apiserver rewrite it
	OtherEntries []string `json:"otherEntries,omitempty"` // further entries tried on failure
	Malformed    string   `json:"malformed,omitempty"`    // why no key can read it, if the sizes say so
	// KMS describes a KMS v2 payload that parses.
	KMS   *kmsReport `json:"kms,omitempty"`
	Notes []string   `json:"notes,omitempty"`
}

// kmsReport is what inspect says of a KMS v2 payload: from the payload alone
// (kmsv2.Describe), and with --config from the plugin, when the value's
// entry is a KMS v2 provider.
type kmsReport struct {
	KeyID         string `json:"keyID"`
	DEKSourceType string `json:"dekSourceType"`
	// DEKSource identifies the DEK or seed (hex of kmsv2.Info.DEKSource):
	// values written with the same one share it.
	DEKSource               string          `json:"dekSource"`
	EncryptedDEKSourceBytes int             `json:"encryptedDEKSourceBytes"`
	EncryptedDataBytes      int             `json:"encryptedDataBytes"`
	DataLayout              string          `json:"dataLayout"`
	Annotations             []kmsAnnotation `json:"annotations"`
	AnnotationBytes         int             `json:"annotationBytes"`
	// Plugin is "reachable" or "unreachable" with --config, "" without.
	Plugin      string `json:"plugin,omitempty"`
	PluginError string `json:"pluginError,omitempty"`
	// The key ID and DEK source type the provider writes now, when the
	// plugin is reachable.
	CurrentKeyID         string `json:"currentKeyID,omitempty"`
	CurrentDEKSourceType string `json:"currentDEKSourceType,omitempty"`
}

// kmsAnnotation is an annotation's key and the size of its value: the
// values are the plugin's data, not shown.
type kmsAnnotation struct {
	Key        string `json:"key"`
	ValueBytes int    `json:"valueBytes"`
}

func runInspect(ctx context.Context, args []string, sio stdio) error {
	var v valueFlags
	var asJSON bool
	fs := newFlags(sio, "inspect", "[--config FILE (--resource R | --key /registry/...)] [--json] < stored")
	v.register(fs, false)
	fs.BoolVar(&asJSON, "json", false, "print a JSON object instead of text")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %w", errUsage, errNoArgs)
	}
	if err := v.check(); err != nil {
		return err
	}
	var r *resolved
	if v.config != "" {
		rr, err := v.chain()
		if err != nil {
			return err
		}
		r = &rr
	} else if v.resource != "" || v.etcdKey != "" {
		if _, err := v.resolve(); err != nil { // the same checks, for typos
			return err
		}
	}
	stored, err := readInput(sio.in, v.maxBytes)
	if err != nil {
		return err
	}
	rep := inspect(stored, r)
	if r != nil {
		closeKMS(r.chain)
	}
	if asJSON {
		enc := json.NewEncoder(sio.out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(sio.out, rep)
	return nil
}

// inspect describes stored by its prefix and sizes, against r's chain if
// not nil. An encrypted value that ends with a newline byte is described
// without it, as `etcdctl get --print-value-only` adds one, unless only the
// whole value fits its provider's layout (an aescbc ciphertext or a KMS v2
// payload whose own last byte is 0x0a).
func inspect(stored []byte, r *resolved) report {
	if !etcdctlNewline(stored) {
		return inspectExact(stored, r)
	}
	rep := inspectExact(stored[:len(stored)-1], r)
	if rep.Malformed != "" {
		if whole := inspectExact(stored, r); whole.Malformed == "" {
			return whole
		}
	}
	rep.Notes = append([]string{"the value ends with a newline, as etcdctl get --print-value-only prints it; sizes exclude it"}, rep.Notes...)
	return rep
}

// inspectExact describes stored, every byte of it.
func inspectExact(stored []byte, r *resolved) report {
	rep := report{StoredBytes: len(stored), Entry: -1}
	var (
		l   envelope.Layout
		kms *kmsv2.Provider // the value's KMS v2 entry, with --config
	)
	if r != nil {
		ch := r.chain
		rep.Resource = r.res.Name
		rep.WriteEntry = ch.Entries()[0].String()
		if r.noRule {
			rep.Notes = append(rep.Notes, r.why())
		}
		// The configured entries decide the prefix, whatever ':' key names hold.
		m := ch.Match(stored)
		if m.Index >= 0 {
			rep.Entry = m.Index
			rep.Provider, rep.KeyName, rep.Prefix = m.Entry.Provider, m.Entry.Name, m.Entry.Prefix()
			l = m.Layout
			stale := m.Stale()
			rep.Stale = &stale
			kms, _ = envelope.KMSProvider(m.Entry)
			for _, i := range m.Others {
				rep.OtherEntries = append(rep.OtherEntries, ch.Entries()[i].String())
			}
		} else {
			rep.Notes = append(rep.Notes, fmt.Sprintf("no entry of the chain for %s matches this prefix: kube-apiserver cannot read it with this configuration", r.res.Name))
		}
	}
	if rep.Provider == "" {
		p, err := envelope.ParsePrefix(stored)
		switch {
		case err != nil && p.Provider == "":
			rep.Provider = "unknown"
			rep.Notes = append(rep.Notes, "the k8s:enc: prefix is not <provider>:<version>:<name>:")
		case err != nil:
			rep.Provider, rep.KeyName, rep.Prefix = "unknown", p.Name, string(stored[:p.Len])
			rep.Notes = append(rep.Notes, fmt.Sprintf("provider %q version %q is not one kube-apiserver writes (kms v1 is refused since 1.29)", p.Provider, p.Version))
		default:
			rep.Provider, rep.KeyName, rep.Prefix = p.Provider, p.Name, string(stored[:p.Len])
			l, _ = envelope.LayoutOf(p.Provider)
			if p.Ambiguous {
				rep.Notes = append(rep.Notes, fmt.Sprintf("the key name is ambiguous without --config: %q, or a longer name containing ':'", p.Name))
			}
		}
	}
	rep.PayloadBytes = len(stored) - len(rep.Prefix)
	if l.Provider == "" {
		rep.Layout = "unknown"
		return rep
	}
	rep.Layout = l.Desc
	payload := stored[len(rep.Prefix):]
	var err error
	rep.PlaintextMin, rep.PlaintextMax, err = l.PlaintextOf(payload)
	if pe, ok := errors.AsType[*envelope.PayloadError](err); ok {
		rep.Malformed = fmt.Sprintf("%d bytes: %s", pe.Size, pe.Reason)
	}
	if l.Provider == envelope.KMSv2 {
		inspectKMS(&rep, payload, kms)
	}
	return rep
}

// inspectKMS describes a KMS v2 payload, and with its provider p (nil
// without --config) asks the plugin what it writes now, which decides
// whether the value is stale: its key ID or DEK source type is not the
// current one. A payload that does not parse is described by rep.Malformed
// alone.
func inspectKMS(rep *report, payload []byte, p *kmsv2.Provider) {
	in, err := kmsv2.Describe(payload)
	if err != nil && !errors.Is(err, kmsv2.ErrShortData) {
		return
	}
	k := &kmsReport{
		KeyID:                   in.KeyID,
		DEKSourceType:           in.DEKSourceType.String(),
		DEKSource:               hex.EncodeToString(in.DEKSource[:]),
		EncryptedDEKSourceBytes: in.EncryptedDEKSource,
		EncryptedDataBytes:      in.EncryptedData,
		DataLayout:              kmsv2.DataLayout(in.DEKSourceType),
		Annotations:             []kmsAnnotation{},
		AnnotationBytes:         in.AnnotationBytes,
	}
	for _, a := range in.Annotations {
		k.Annotations = append(k.Annotations, kmsAnnotation{a.Key, a.Value})
	}
	rep.KMS = k
	if p == nil {
		return
	}
	id, typ, err := p.Current()
	if err != nil {
		k.Plugin, k.PluginError = "unreachable", err.Error()
		if rep.Stale != nil && !*rep.Stale {
			rep.Stale = nil // the write entry's, but is it the current key?
		}
		return
	}
	k.Plugin, k.CurrentKeyID, k.CurrentDEKSourceType = "reachable", id, typ.String()
	if id != in.KeyID || typ != in.DEKSourceType {
		stale := true
		rep.Stale = &stale
	}
}

// closeKMS closes the plugin connections of ch's KMS v2 entries.
func closeKMS(ch *envelope.Chain) {
	for _, e := range ch.Entries() {
		if p, ok := envelope.KMSProvider(e); ok {
			p.Close()
		}
	}
}

func printReport(w io.Writer, r report) {
	line := func(k, format string, a ...any) { fmt.Fprintf(w, "%-11s %s\n", k+":", fmt.Sprintf(format, a...)) }
	line("provider", "%s", r.Provider)
	switch {
	case r.KeyName != "" && r.Provider == envelope.KMSv2:
		line("name", "%s (the KMS provider's name)", quoteName(r.KeyName))
	case r.KeyName != "":
		line("key name", "%s", quoteName(r.KeyName))
	}
	if r.Prefix != "" {
		line("prefix", "%s (%d bytes)", quoteName(r.Prefix), len(r.Prefix))
	}
	if r.Resource != "" {
		line("resource", "%s", r.Resource)
	}
	line("stored", "%d bytes", r.StoredBytes)
	k := r.KMS
	layout := r.Layout
	if k != nil {
		layout, _, _ = strings.Cut(layout, ";") // the data line says the rest
	}
	line("payload", "%d bytes: %s", r.PayloadBytes, layout)
	if k != nil {
		line("key ID", "%s", quoteName(k.KeyID))
		line("DEK source", "%s, encrypted by the plugin in %d bytes; id %s (values written with the same DEK or seed share it)",
			k.DEKSourceType, k.EncryptedDEKSourceBytes, k.DEKSource[:16])
		if len(k.Annotations) == 0 {
			line("annotation", "none")
		}
		for _, a := range k.Annotations {
			line("annotation", "%s (value: %d bytes)", quoteName(a.Key), a.ValueBytes)
		}
		line("data", "%d bytes: %s", k.EncryptedDataBytes, k.DataLayout)
	}
	switch {
	case r.Malformed != "":
		line("malformed", "%s", r.Malformed)
	case r.Layout == "unknown":
	case r.PlaintextMin == r.PlaintextMax:
		line("plaintext", "%d bytes", r.PlaintextMin)
	default:
		line("plaintext", "%d to %d bytes (the padding length is only known after decryption)", r.PlaintextMin, r.PlaintextMax)
	}
	if k != nil {
		switch k.Plugin {
		case "reachable":
			line("plugin", "reachable: writes key ID %s, %s", quoteName(k.CurrentKeyID), k.CurrentDEKSourceType)
		case "unreachable":
			line("plugin", "unreachable: %s", k.PluginError)
		}
	}
	switch {
	case r.Stale == nil && k != nil && k.Plugin == "unreachable":
		line("stale", "plugin unreachable: staleness unknown")
	case r.Stale == nil:
	case *r.Stale && r.Entry > 0:
		line("stale", "yes: read with entry %d, but the chain writes with %s; kube-apiserver rewrites it on its next update", r.Entry, quoteName(r.WriteEntry))
	case *r.Stale && k != nil && k.KeyID != k.CurrentKeyID:
		line("stale", "yes: key ID %s is not the plugin's current one; kube-apiserver rewrites it on its next update", quoteName(k.KeyID))
	case *r.Stale && k != nil:
		line("stale", "yes: its DEK source type is %s, the provider writes %s; kube-apiserver rewrites it on its next update", k.DEKSourceType, k.CurrentDEKSourceType)
	case k != nil:
		line("stale", "no: written with the chain's write entry %s under the plugin's current key ID", quoteName(r.WriteEntry))
	default:
		line("stale", "no: written with the chain's write entry %s", quoteName(r.WriteEntry))
	}
	if len(r.OtherEntries) > 0 {
		line("also tried", "%s (same prefix; tried in order if the first fails)", quoteName(strings.Join(r.OtherEntries, ", ")))
	}
	for _, n := range r.Notes {
		line("note", "%s", n)
	}
}

// quoteName quotes a name from the data if it holds anything but printable
// ASCII, so that no escape sequence reaches the terminal.
func quoteName(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return strconv.Quote(s)
		}
	}
	return s
}
