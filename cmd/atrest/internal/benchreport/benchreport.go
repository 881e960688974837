// Package benchreport turns Go benchmark results into what "atrest compare"
// and "make bench" print: benchstat-style tables with confidence intervals,
// deltas and p-values, a regression gate, and an SVG throughput chart.
//
// It is built on golang.org/x/perf: benchfmt reads the results, benchproc
// projects them into rows and columns (the same projection syntax as
// benchstat's -row and -col, e.g. "/impl@(kubernetes atrest)"), and
// benchmath summarises each cell and compares it with the base column
// (Mann-Whitney U for time, exact comparison for units declared exact).
package benchreport

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchproc"
	"golang.org/x/perf/benchunit"
)

// Set is a collection of benchmark results with their unit metadata and the
// configuration lines shared by every result.
type Set struct {
	Results []*benchfmt.Result
	Units   benchfmt.UnitMetadataMap
}

// ErrNoResults is returned when the inputs hold no benchmark results.
var ErrNoResults = errors.New("benchreport: no benchmark results")

// Read reads benchmark result files. A path may be given as label=path to
// name its column (the .file key). Lines that are not benchmark results are
// returned as warnings (*benchfmt.SyntaxError values, in file order) next to
// the results that did parse; a file that cannot be opened is an error, and
// so is (ErrNoResults) a set of files without any result.
func Read(paths ...string) (s *Set, warnings []error, err error) {
	files := benchfmt.Files{Paths: paths, AllowLabels: true}
	s = &Set{}
	for files.Scan() {
		switch rec := files.Result().(type) {
		case *benchfmt.SyntaxError:
			warnings = append(warnings, rec)
		case *benchfmt.Result:
			s.Results = append(s.Results, rec.Clone())
		}
	}
	if err := files.Err(); err != nil {
		return nil, warnings, err
	}
	s.Units = files.Units()
	if len(s.Results) == 0 {
		return nil, warnings, ErrNoResults
	}
	return s, warnings, nil
}

// Config returns the configuration keys whose value is the same in every
// result (goos, cpu, ...) in the order they first appear, without the
// .file key.
func (s *Set) Config() [][2]string {
	var out [][2]string
	if len(s.Results) == 0 {
		return nil
	}
	for _, c := range s.Results[0].Config {
		if !c.File {
			// Per-result (sub-benchmark) keys are not configuration.
			continue
		}
		v := string(c.Value)
		same := true
		for _, r := range s.Results[1:] {
			if string(r.GetConfig(c.Key)) != v {
				same = false
				break
			}
		}
		if same {
			out = append(out, [2]string{c.Key, v})
		}
	}
	return out
}

// Options configures Build.
type Options struct {
	Row    string // benchproc projection for rows; default ".fullname"
	Col    string // benchproc projection for columns; default ".file"
	Filter string // benchproc filter query; default "*"
	// Units lists the units to tabulate, in order, as written in the files
	// or tidied ("ns/op" and "sec/op" both work); empty means every unit in
	// order of appearance.
	Units []string
	// Confidence is the confidence level of the ranges; default 0.95.
	Confidence float64
	// Alpha is the significance level of comparisons; default 0.05.
	Alpha float64
}

// Report is a set of tables, one per unit.
type Report struct {
	Config [][2]string
	Tables []*Table
	Alpha  float64
}

// Table holds one unit. Column 0 is the base every other column is
// compared with.
type Table struct {
	Unit       string // tidied unit, e.g. "sec/op", "B/op"
	Better     int    // +1 higher is better, -1 lower is better (also for unknown units)
	Assumption benchmath.Assumption
	Cols       []string
	Rows       []*Row
}

// Row is one row of a table; Cells[i] is nil where column i has no data.
type Row struct {
	Label string
	Cells []*Cell
}

// Cell summarises the measurements of one row and column.
type Cell struct {
	Sample  *benchmath.Sample
	Summary benchmath.Summary
	// Cmp compares the cell with the base cell of its row; nil in the base
	// column or when the base cell is missing.
	Cmp *benchmath.Comparison
	// Base is the base cell's center (valid when Cmp != nil).
	Base float64
}

// Change is the relative change of the cell's center from the base center,
// +0.10 for 10% more; NaN without comparison or when the base is zero and the
// cell is not.
func (c *Cell) Change() float64 {
	if c == nil || c.Cmp == nil {
		return math.NaN()
	}
	if c.Base == 0 {
		if c.Summary.Center == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return c.Summary.Center/c.Base - 1
}

// Significant reports whether the comparison with the base rejects the null
// hypothesis at alpha.
func (c *Cell) Significant(alpha float64) bool { return c != nil && c.Cmp != nil && c.Cmp.P < alpha }

// Exact reports whether both the cell's sample and the base sample have no
// spread at all (deterministic metrics such as allocs/op).
func (c *Cell) Exact(base *Cell) bool {
	return c != nil && base != nil && spread(c.Sample) == 0 && spread(base.Sample) == 0
}

func spread(s *benchmath.Sample) float64 {
	if s == nil || len(s.Values) == 0 {
		return math.NaN()
	}
	return s.Values[len(s.Values)-1] - s.Values[0]
}

// Build projects the set into rows and columns and summarises every cell.
func Build(s *Set, o Options) (*Report, error) {
	if o.Row == "" {
		o.Row = ".fullname"
	}
	if o.Col == "" {
		o.Col = ".file"
	}
	if o.Filter == "" {
		o.Filter = "*"
	}
	if o.Confidence == 0 {
		o.Confidence = 0.95
	}
	if o.Alpha == 0 {
		o.Alpha = benchmath.DefaultThresholds.CompareAlpha
	}
	if o.Alpha < 0 || o.Alpha > 1 || o.Confidence < 0 || o.Confidence > 1 {
		return nil, fmt.Errorf("benchreport: alpha and confidence must be in [0, 1]")
	}
	filter, err := benchproc.NewFilter(o.Filter)
	if err != nil {
		return nil, fmt.Errorf("benchreport: filter: %w", err)
	}
	var parser benchproc.ProjectionParser
	colBy, err := parser.Parse(o.Col, filter)
	if err != nil {
		return nil, fmt.Errorf("benchreport: col: %w", err)
	}
	rowBy, err := parser.Parse(o.Row, filter)
	if err != nil {
		return nil, fmt.Errorf("benchreport: row: %w", err)
	}
	thresholds := benchmath.DefaultThresholds
	thresholds.CompareAlpha = o.Alpha

	type cellKey struct {
		unit     string
		row, col benchproc.Key
	}
	values := map[cellKey][]float64{}
	var units []string
	var rows, cols []benchproc.Key
	seenRow, seenCol := map[benchproc.Key]bool{}, map[benchproc.Key]bool{}
	for _, r := range s.Results {
		if ok, _ := filter.Apply(r); !ok {
			continue
		}
		rk, ck := rowBy.Project(r), colBy.Project(r)
		if !seenRow[rk] {
			seenRow[rk] = true
			rows = append(rows, rk)
		}
		if !seenCol[ck] {
			seenCol[ck] = true
			cols = append(cols, ck)
		}
		for _, v := range r.Values {
			if !slices.Contains(units, v.Unit) {
				units = append(units, v.Unit)
			}
			k := cellKey{v.Unit, rk, ck}
			values[k] = append(values[k], v.Value)
		}
	}
	if len(rows) == 0 {
		return nil, ErrNoResults
	}
	benchproc.SortKeys(rows)
	benchproc.SortKeys(cols)

	if len(o.Units) > 0 {
		var want []string
		for _, u := range o.Units {
			_, tu := benchunit.Tidy(1, u)
			if !slices.Contains(units, tu) {
				return nil, fmt.Errorf("benchreport: no results have unit %q", u)
			}
			want = append(want, tu)
		}
		units = want
	}

	rep := &Report{Config: s.Config(), Alpha: o.Alpha}
	for _, unit := range units {
		t := &Table{Unit: unit, Better: s.Units.GetBetter(unit), Assumption: s.Units.GetAssumption(unit)}
		if t.Better == 0 {
			t.Better = -1
		}
		for _, c := range cols {
			t.Cols = append(t.Cols, colLabel(c))
		}
		for _, rk := range rows {
			row := &Row{Label: label(rk), Cells: make([]*Cell, len(cols))}
			any := false
			for i, ck := range cols {
				vals := values[cellKey{unit, rk, ck}]
				if len(vals) == 0 {
					continue
				}
				any = true
				smp := benchmath.NewSample(vals, &thresholds)
				row.Cells[i] = &Cell{Sample: smp, Summary: t.Assumption.Summary(smp, o.Confidence)}
			}
			if !any {
				continue
			}
			if base := row.Cells[0]; base != nil {
				for _, c := range row.Cells[1:] {
					if c == nil {
						continue
					}
					cmp := t.Assumption.Compare(base.Sample, c.Sample)
					c.Cmp, c.Base = &cmp, base.Summary.Center
				}
			}
			t.Rows = append(t.Rows, row)
		}
		rep.Tables = append(rep.Tables, t)
	}
	return rep, nil
}

// label renders a key as name/key=value/..., the way benchmark names read.
func label(k benchproc.Key) string {
	var parts []string
	for _, f := range k.Projection().FlattenedFields() {
		v := k.Get(f)
		switch {
		case strings.HasPrefix(f.Name, "/"):
			parts = append(parts, f.Name[1:]+"="+v)
		case v != "":
			parts = append(parts, v)
		}
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, "/")
}

// colLabel is the value alone when the column projection has one field
// (like benchstat's column headers), else the full label.
func colLabel(k benchproc.Key) string {
	if f := k.Projection().FlattenedFields(); len(f) == 1 {
		if v := k.Get(f[0]); v != "" {
			return v
		}
	}
	return label(k)
}

// Table returns the table of unit (tidied or as written), or nil.
func (r *Report) Table(unit string) *Table {
	_, tu := benchunit.Tidy(1, unit)
	for _, t := range r.Tables {
		if t.Unit == tu {
			return t
		}
	}
	return nil
}
