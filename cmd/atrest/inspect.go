package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
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
	Notes        []string `json:"notes,omitempty"`
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
	if asJSON {
		enc := json.NewEncoder(sio.out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(sio.out, rep)
	return nil
}

// inspect describes stored by its prefix and sizes, against r's chain if
// not nil.
func inspect(stored []byte, r *resolved) report {
	rep := report{StoredBytes: len(stored), Entry: -1}
	if etcdctlNewline(stored) {
		rep.Notes = append(rep.Notes, "the value ends with a newline, as etcdctl get --print-value-only prints it; sizes exclude it")
		stored = stored[:len(stored)-1]
		rep.StoredBytes--
	}
	var l envelope.Layout
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
	var err error
	rep.PlaintextMin, rep.PlaintextMax, err = l.Plaintext(rep.PayloadBytes)
	if pe, ok := errors.AsType[*envelope.PayloadError](err); ok {
		rep.Malformed = fmt.Sprintf("%d bytes: %s", pe.Size, pe.Reason)
	}
	return rep
}

func printReport(w io.Writer, r report) {
	line := func(k, format string, a ...any) { fmt.Fprintf(w, "%-11s %s\n", k+":", fmt.Sprintf(format, a...)) }
	line("provider", "%s", r.Provider)
	if r.KeyName != "" {
		line("key name", "%s", quoteName(r.KeyName))
	}
	if r.Prefix != "" {
		line("prefix", "%s (%d bytes)", quoteName(r.Prefix), len(r.Prefix))
	}
	if r.Resource != "" {
		line("resource", "%s", r.Resource)
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
			line("stale", "yes: read with entry %d, but the chain writes with %s; kube-apiserver rewrites it on its next update", r.Entry, quoteName(r.WriteEntry))
		} else {
			line("stale", "no: written with the chain's write entry %s", quoteName(r.WriteEntry))
		}
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
