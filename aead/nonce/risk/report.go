package risk

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// groups maps the provider names a report can be limited to to the names of
// their schemes.
var groups = map[string][]string{
	"aesgcm":        {"aesgcm"},
	"secretbox":     {"secretbox"},
	"aescbc":        {"aescbc"},
	"kmsv2-counter": {"kmsv2-counter"},
	"kmsv2-xnonce":  {"kmsv2-xnonce", "kmsv2-xnonce-key"},
	"atrest":        {"atrest", "atrest-r32"},
}

// SchemesOf returns the schemes of one provider (aesgcm, secretbox, aescbc,
// kmsv2-counter, kmsv2-xnonce, or atrest for both Counter strategies), or
// every scheme for "all"; ok is false for any other name.
func SchemesOf(group string) (schemes []Scheme, ok bool) {
	all := Schemes()
	if group == "all" {
		return all, true
	}
	names, ok := groups[group]
	for _, n := range names {
		for _, s := range all {
			if s.Name == n {
				schemes = append(schemes, s)
			}
		}
	}
	return schemes, ok
}

// A Scenario is one table of a Report: each scheme's risk after Writes
// writes (no risk column if Writes is NaN), the most writes that keep it at
// or below the target and, if Rate > 0, how long a key lasts at Rate writes
// per second.
type Scenario struct {
	Title  string
	Writes float64
	Rate   float64
}

// DefaultScenarios are the three reference scenarios: 200,000 writes,
// 2^32 writes and 100 writes/s for a year, with lifetimes at 100 writes/s.
func DefaultScenarios() []Scenario {
	n := math.Floor(100 * year)
	return []Scenario{
		{"200,000 writes (the Kubernetes docs' rotation advice)", 200000, 100},
		{"2^32 writes (NIST SP 800-38D's random-nonce limit)", math.Ldexp(1, 32), 100},
		{"100 writes/s for a year = " + FormatCount(n) + " writes", n, 100},
	}
}

// Report is the collision risk of some schemes in one deployment, against
// one target probability, in one or more scenarios.
type Report struct {
	Schemes    []Scheme
	Deployment Deployment
	Target     float64 // acceptable collision probability per key
	Scenarios  []Scenario
}

// WriteText writes the report as aligned plain-text tables: a line on the
// deployment, a table per scenario and what a collision means per scheme.
func (r *Report) WriteText(w io.Writer) error { return r.write(w, false) }

// WriteMarkdown writes the report like WriteText with Markdown tables.
func (r *Report) WriteMarkdown(w io.Writer) error { return r.write(w, true) }

func (r *Report) write(w io.Writer, markdown bool) error {
	buf := new(bytes.Buffer)
	d := r.Deployment
	fmt.Fprintf(buf, "Deployment: %g process starts share each key; %g snapshot restores replaying %g writes each. Target %s.\n",
		d.Starts, d.Restores, d.Replay, FormatProb(r.Target))
	for _, sc := range r.Scenarios {
		var tw table = tabwriter.NewWriter(buf, 0, 0, 2, ' ', 0)
		if markdown {
			fmt.Fprintf(buf, "\n**%s**\n\n", sc.Title)
			tw = &mdTable{w: buf}
		} else {
			fmt.Fprintf(buf, "\n== %s\n", sc.Title)
		}
		head := "scheme\tnonce\tP(collision)"
		if math.IsNaN(sc.Writes) {
			head = "scheme\tnonce"
		}
		head += "\tmax writes at " + FormatProb(r.Target)
		if sc.Rate > 0 {
			head += "\tkey lifetime at " + FormatCount(sc.Rate) + "/s"
		}
		fmt.Fprintln(tw, head)
		for _, s := range r.Schemes {
			row := s.Name + "\t" + s.Layout
			if !math.IsNaN(sc.Writes) {
				row += "\t" + FormatProb(s.Risk(sc.Writes, d))
			}
			m := s.MaxWrites(r.Target, d)
			row += "\t" + formatMax(m, s)
			if sc.Rate > 0 && m >= 2 {
				row += "\t" + formatYears(m/sc.Rate)
			} else if sc.Rate > 0 {
				row += "\t-"
			}
			fmt.Fprintln(tw, row)
		}
		tw.Flush()
	}
	fmt.Fprintln(buf, "\nWhat a collision means:")
	for _, s := range r.Schemes {
		fmt.Fprintf(buf, "  %-17s %s\n", s.Name+":", s.Event)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

type table interface {
	io.Writer
	Flush() error
}

// mdTable turns tab-separated lines into a Markdown table.
type mdTable struct {
	w    io.Writer
	rows int
}

func (m *mdTable) Write(p []byte) (int, error) {
	for line := range strings.SplitSeq(strings.TrimSuffix(string(p), "\n"), "\n") {
		cells := strings.Split(strings.ReplaceAll(line, "|", `\|`), "\t")
		fmt.Fprintf(m.w, "| %s |\n", strings.Join(cells, " | "))
		if m.rows == 0 {
			fmt.Fprintf(m.w, "|%s\n", strings.Repeat("---|", len(cells)))
		}
		m.rows++
	}
	return len(p), nil
}

func (m *mdTable) Flush() error { return nil }
