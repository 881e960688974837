package scan

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
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
	fmt.Fprintf(ew, "%s, revision %d, prefix %s: %d values, %s\n\n", r.Source, r.Revision, r.Prefix, r.Values, size(r.Totals.Bytes))
	tw := tabwriter.NewWriter(ew, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tWRITE KEY\tVALUES\tSTORED WITH\tCOUNT\tPLAINTEXT\tSTALE\tUNREADABLE\t")
	for _, res := range r.Resources {
		labels := make([]string, 0, len(res.ByKey))
		for l := range res.ByKey {
			labels = append(labels, l)
		}
		slices.Sort(labels)
		name := res.Resource
		if name == "" {
			name = "(outside prefix)"
		}
		first := ""
		if len(labels) > 0 {
			first = labels[0]
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t\n", name, res.Chain[0], res.Values, first, res.ByKey[first],
			res.Plaintext, res.Stale, res.Unreadable)
		for _, l := range labels[min(1, len(labels)):] {
			fmt.Fprintf(tw, "\t\t\t%s\t%d\t\t\t\t\n", l, res.ByKey[l])
		}
	}
	t := r.Totals
	fmt.Fprintf(tw, "total\t\t%d\t\t\t%d\t%d\t%d\t\n", t.Values, t.Plaintext, t.Stale, t.Unreadable)
	tw.Flush()

	fmt.Fprintln(ew)
	tw = tabwriter.NewWriter(ew, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "KEY\tVALUES\tP(NONCE REPEAT)\tMAX WRITES AT 2^%d\tUSED\t\n", int(math.Log2(NonceRisk)))
	for _, k := range r.Keys {
		if k.MaxWrites == 0 {
			fmt.Fprintf(tw, "%s\t%d\t-\t-\t-\t\n", k.Key, k.Values)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.3g\t%.2g%%\t\n", k.Key, k.Values, prob(k.CollisionProbability), k.MaxWrites,
			100*float64(k.Values)/k.MaxWrites)
	}
	tw.Flush()

	fmt.Fprintln(ew)
	if len(r.NonceReuse) == 0 {
		fmt.Fprintln(ew, "aesgcm nonce reuse: none")
	} else {
		fmt.Fprintf(ew, "aesgcm nonce reuse: %d nonces used more than once under one key (CATASTROPHIC: rotate the key now)\n", len(r.NonceReuse))
		for _, u := range r.NonceReuse {
			fmt.Fprintf(ew, "  %s nonce %s: %s\n", u.Key, u.Nonce, strings.Join(u.EtcdKeys, " "))
		}
	}
	var findings []string
	for _, res := range r.Resources {
		for _, what := range []string{"plaintext", "stale", "unreadable"} {
			if ex := res.Examples[what]; len(ex) > 0 {
				findings = append(findings, fmt.Sprintf("  %s %s: %s", res.Resource, what, strings.Join(ex, " ")))
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
		fmt.Fprintf(ew, "%d KMS v2 values not checked (they need the cluster's KMS plugin)\n", t.Unchecked)
	}
	return ew.err
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
