package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/atrest-dev/atrest/envelope"
)

func init() {
	register(command{
		name:    "inspect",
		summary: "describe a stored value (provider, key, sizes, stale) without decrypting it",
		run:     runInspect,
	})
}

// report is what inspect says of a value; it is also the --json form.
type report struct {
	Provider     string   `json:"provider"`          // identity, aescbc, aesgcm, secretbox, kms, or unknown
	KeyName      string   `json:"keyName,omitempty"` // key (or KMS plugin) name
	Prefix       string   `json:"prefix"`
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
	Notes        []string `json:"notes,omitempty"`
}

func runInspect(ctx context.Context, args []string, sio stdio) error {
	var v valueFlags
	var asJSON bool
	fs := newFlags(sio, "inspect", "[--config FILE --resource R | --key /registry/...] [--json] < stored")
	v.register(fs, false)
	fs.BoolVar(&asJSON, "json", false, "print a JSON object instead of text")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %w", errUsage, errNoArgs)
	}
	var ch *envelope.Chain
	if v.config != "" {
		var err error
		if ch, err = v.chain(); err != nil {
			return err
		}
	}
	stored, err := readInput(sio.in, v.maxBytes)
	if err != nil {
		return err
	}
	r := inspect(stored, ch)
	if asJSON {
		enc := json.NewEncoder(sio.out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printReport(sio.out, r)
	return nil
}

// inspect describes stored by its prefix and sizes, against ch if not nil.
func inspect(stored []byte, ch *envelope.Chain) report {
	r := report{StoredBytes: len(stored), Entry: -1}
	if etcdctlNewline(stored) {
		r.Notes = append(r.Notes, "the value ends with a newline, as etcdctl get --print-value-only prints it; sizes exclude it")
		stored = stored[:len(stored)-1]
		r.StoredBytes--
	}
	if ch != nil {
		r.WriteEntry = ch.Entries()[0].String()
		m := ch.Match(stored)
		if m.Index >= 0 {
			r.Entry = m.Index
			r.Provider, r.KeyName, r.Prefix = m.Entry.Provider, m.Entry.Name, m.Entry.Prefix()
			stale := m.Stale()
			r.Stale = &stale
			for _, i := range m.Others {
				r.OtherEntries = append(r.OtherEntries, ch.Entries()[i].String())
			}
		} else {
			r.Notes = append(r.Notes, "no entry of the chain matches this prefix: kube-apiserver cannot read it with this configuration")
		}
	}
	if r.Provider == "" {
		r.Provider, r.KeyName, r.Prefix = parsePrefix(stored)
		if ch == nil && r.Prefix != "" {
			r.Notes = append(r.Notes, "key names may contain ':'; without --config the name is read up to the first ':'")
		}
	}
	r.PayloadBytes = len(stored) - len(r.Prefix)
	r.Layout, r.PlaintextMin, r.PlaintextMax, r.Malformed = layout(r.Provider, r.PayloadBytes)
	return r
}

// parsePrefix reads k8s:enc:<provider>:v<n>:<name>: without a configuration.
func parsePrefix(stored []byte) (provider, name, prefix string) {
	if !bytes.HasPrefix(stored, []byte(envelope.EncryptedPrefix)) {
		return envelope.Identity, "", ""
	}
	rest := string(stored[len(envelope.EncryptedPrefix):min(len(stored), 512)])
	parts := strings.SplitN(rest, ":", 4)
	if len(parts) < 4 {
		return "unknown", "", ""
	}
	prefix = envelope.EncryptedPrefix + parts[0] + ":" + parts[1] + ":" + parts[2] + ":"
	return parts[0], parts[2], prefix
}

// layout describes a provider's payload of n bytes and the plaintext sizes
// it can hold, or why it is malformed.
func layout(provider string, n int) (desc string, lo, hi int, malformed string) {
	switch provider {
	case envelope.Identity:
		return "plaintext", n, n, ""
	case envelope.AESCBC:
		desc = "IV(16) || AES-CBC ciphertext with PKCS#7 padding"
		switch {
		case n < 32:
			return desc, 0, 0, fmt.Sprintf("%d bytes: shorter than an IV and one block", n)
		case n%16 != 0:
			return desc, 0, 0, fmt.Sprintf("%d bytes: the ciphertext is not a whole number of 16-byte blocks", n)
		}
		return desc, n - 32, n - 17, ""
	case envelope.AESGCM:
		desc = "nonce(12) || ciphertext || tag(16)"
		if n < 28 {
			return desc, 0, 0, fmt.Sprintf("%d bytes: shorter than nonce and tag", n)
		}
		return desc, n - 28, n - 28, ""
	case envelope.Secretbox:
		desc = "nonce(24) || tag(16) || XSalsa20 ciphertext"
		if n < 40 {
			return desc, 0, 0, fmt.Sprintf("%d bytes: shorter than nonce and tag", n)
		}
		return desc, n - 40, n - 40, ""
	case envelope.KMSv2:
		return "protobuf EncryptedObject (KMS v2)", 0, 0, ""
	}
	return "unknown", 0, 0, ""
}

func printReport(w io.Writer, r report) {
	line := func(k, format string, a ...any) { fmt.Fprintf(w, "%-11s %s\n", k+":", fmt.Sprintf(format, a...)) }
	line("provider", "%s", r.Provider)
	if r.KeyName != "" {
		line("key name", "%s", r.KeyName)
	}
	if r.Prefix != "" {
		line("prefix", "%s (%d bytes)", r.Prefix, len(r.Prefix))
	}
	line("stored", "%d bytes", r.StoredBytes)
	line("payload", "%d bytes: %s", r.PayloadBytes, r.Layout)
	switch {
	case r.Malformed != "":
		line("malformed", "%s", r.Malformed)
	case r.Provider == envelope.KMSv2 || r.Layout == "unknown":
	case r.PlaintextMin == r.PlaintextMax:
		line("plaintext", "%d bytes", r.PlaintextMin)
	default:
		line("plaintext", "%d to %d bytes (the padding length is only known after decryption)", r.PlaintextMin, r.PlaintextMax)
	}
	if r.Stale != nil {
		if *r.Stale {
			line("stale", "yes: read with entry %d, but the chain writes with %s; kube-apiserver rewrites it on its next update", r.Entry, r.WriteEntry)
		} else {
			line("stale", "no: written with the chain's write entry %s", r.WriteEntry)
		}
	}
	if len(r.OtherEntries) > 0 {
		line("also tried", "%s (same prefix; tried in order if the first fails)", strings.Join(r.OtherEntries, ", "))
	}
	for _, n := range r.Notes {
		line("note", "%s", n)
	}
}
