package scan

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as tables: resources with the keys their
// values were written with, then the keys with their nonce bounds, then the
// findings.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "%s, revision %d, prefix %s: %d values, %s\n", quoteLine(r.Source), r.Revision, quote(r.Prefix), r.Values, size(r.Totals.Bytes))
	if r.Verified != "" {
		fmt.Fprintf(ew, "snapshot verified: %s\n", r.Verified)
	}
	fmt.Fprintln(ew)
	t := r.Totals
	// An UNCHECKED column when some KMS v2 plugin was unreachable.
	unchecked := func(n int) string { return "" }
	uncheckedHead, blank := "", ""
	if t.Unchecked > 0 {
		unchecked = func(n int) string { return fmt.Sprintf("%d\t", n) }
		uncheckedHead, blank = "UNCHECKED\t", "\t"
	}
	tw := tabwriter.NewWriter(ew, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tWRITE KEY\tVALUES\tSTORED WITH\tCOUNT\tPLAINTEXT\tSTALE\tUNREADABLE\t"+uncheckedHead)
	for _, res := range r.Resources {
		labels := make([]string, 0, len(res.ByKey))
		for l := range res.ByKey {
			labels = append(labels, l)
		}
		slices.Sort(labels)
		name := quote(res.Resource)
		if res.Unencrypted {
			name += " (never encrypted)"
		}
		first := ""
		if len(labels) > 0 {
			first = labels[0]
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\n", name, quote(res.Chain[0]), res.Values, quote(first), res.ByKey[first],
			res.Plaintext, res.Stale, res.Unreadable, unchecked(res.Unchecked))
		for _, l := range labels[min(1, len(labels)):] {
			fmt.Fprintf(tw, "\t\t\t%s\t%d\t\t\t\t%s\n", quote(l), res.ByKey[l], blank)
		}
	}
	if t.Unresolved > 0 {
		fmt.Fprintf(tw, "(unknown resource)\t-\t%d\t\t\t?\t?\t?\t%s\n", t.Unresolved, strings.Repeat("?\t", len(blank)))
	}
	fmt.Fprintf(tw, "total\t\t%d\t\t\t%d\t%d\t%d\t%s\n", t.Values, t.Plaintext, t.Stale, t.Unreadable, unchecked(t.Unchecked))
	tw.Flush()

	fmt.Fprintln(ew)
	tw = tabwriter.NewWriter(ew, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "KEY\tVALUES\tP(NONCE REPEAT)\tMAX WRITES AT 2^%d\tUSED\t\n", int(math.Log2(NonceRisk)))
	for _, k := range r.Keys {
		if k.MaxWrites == 0 {
			fmt.Fprintf(tw, "%s\t%d\t-\t-\t-\t\n", quote(k.Key), k.Values)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.3g\t%.2g%%\t\n", quote(k.Key), k.Values, prob(k.CollisionProbability), k.MaxWrites,
			100*float64(k.Values)/k.MaxWrites)
	}
	tw.Flush()

	if len(r.KMS) > 0 {
		fmt.Fprintln(ew)
		r.writeKMS(ew)
	}

	fmt.Fprintln(ew)
	if len(r.NonceReuse) == 0 {
		fmt.Fprintln(ew, "aesgcm nonce reuse: none")
	} else {
		fmt.Fprintf(ew, "aesgcm nonce reuse: %d nonces used more than once under one key (CATASTROPHIC: rotate the key now)\n", len(r.NonceReuse))
		for _, u := range r.NonceReuse {
			fmt.Fprintf(ew, "  %s nonce %s: %s\n", quote(u.Key), u.Nonce, quoteAll(u.EtcdKeys))
		}
	}
	var findings []string
	for _, res := range r.Resources {
		for _, what := range []string{"plaintext", "stale", "unreadable"} {
			if ex := res.Examples[what]; len(ex) > 0 {
				findings = append(findings, fmt.Sprintf("  %s %s: %s", quote(res.Resource), what, quoteAll(ex)))
			}
		}
	}
	if len(findings) > 0 {
		fmt.Fprintln(ew, "examples:")
		for _, f := range findings {
			fmt.Fprintln(ew, f)
		}
	}
	if t.Unchecked > 0 {
		fmt.Fprintf(ew, "%d KMS v2 values not checked: their plugin was unreachable (they are counted per key ID above; scan again when it is up)\n", t.Unchecked)
	}
	if len(r.Unresolved) > 0 {
		fmt.Fprintf(ew, "unknown resources: %d values under key segments atrest cannot map to a resource (not audited):\n", t.Unresolved)
		for _, u := range r.Unresolved {
			labels := make([]string, 0, len(u.ByKey))
			for l := range u.ByKey {
				labels = append(labels, fmt.Sprintf("%s %d", quote(l), u.ByKey[l]))
			}
			slices.Sort(labels)
			fmt.Fprintf(ew, "  %s: %d values (%s), e.g. %s\n", quote(u.Segment), u.Values, strings.Join(labels, ", "), quoteAll(u.Examples))
		}
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(ew, "warning: %s\n", w)
	}
	return ew.err
}

// writeKMS writes the KMS v2 table, a row per provider, key ID and DEK
// source type, and what each plugin writes now.
func (r *Report) writeKMS(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "KMS PROVIDER\tKEY ID\tDEK SOURCE TYPE\tCURRENT\tVALUES\tDEK SOURCES\tMOST ON ONE\tSTALE\tUNREADABLE\tUNCHECKED\t")
	for _, k := range r.KMS {
		id, typ, most := quote(k.KeyID), k.DEKSourceType, 0
		if k.KeyID == "" {
			id, typ = "(malformed)", "-"
		}
		if len(k.DEKSources) > 0 {
			most = k.DEKSources[0].Values
		}
		cur := "?"
		switch {
		case k.Current == nil:
		case *k.Current:
			cur = "yes"
		default:
			cur = "no"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", quote(k.Provider), id, typ, cur, k.Values,
			len(k.DEKSources), most, k.Stale, k.Unreadable, k.Unchecked)
	}
	tw.Flush()
	for _, p := range r.KMSPlugins {
		switch {
		case !p.Configured:
			fmt.Fprintf(w, "%s: no entry of the configuration names this KMS provider: its values are unreadable\n", quote(p.Provider))
		case p.Reachable:
			fmt.Fprintf(w, "%s: plugin reachable, writes key ID %s (%s)\n", quote(p.Provider), quote(p.CurrentKeyID), p.CurrentDEKSourceType)
		default:
			fmt.Fprintf(w, "%s: plugin unreachable: its values are counted from their payloads, not decrypted (UNCHECKED), and whether their key is current is unknown (?): %s\n",
				quote(p.Provider), quoteLine(p.Error))
		}
	}
}

// quote returns s as it is if it is made of printable characters other than
// spaces, and Go-quoted otherwise: etcd keys, key names and resource names
// come from the data, and a terminal escape sequence in one must not
// rewrite the report.
func quote(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// quoteLine is quote for text alone on its line: spaces stay as they are.
func quoteLine(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return r != ' ' && (!unicode.IsGraphic(r) || unicode.IsSpace(r)) }) || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	return s
}

func quoteAll(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = quote(s)
	}
	return strings.Join(out, " ")
}

func prob(p float64) string {
	if p == 0 {
		return "0"
	}
	return fmt.Sprintf("2^%.1f", math.Log2(p))
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
