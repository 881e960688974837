package benchreport

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/perf/benchunit"
)

// WriteText writes the report as aligned plain text: the shared
// configuration lines, then per unit a table whose first column is the base
// and whose other columns show the change from it. A change is "~" when the
// comparison does not reject the null hypothesis at the report's alpha; the
// ratio after it is the improvement factor (base/new where lower is better,
// new/base where higher is better), printed only for significant changes.
func (r *Report) WriteText(w io.Writer) error { return r.write(w, false) }

// WriteMarkdown writes the same report as GitHub-flavoured Markdown tables,
// for documentation.
func (r *Report) WriteMarkdown(w io.Writer) error { return r.write(w, true) }

func (r *Report) write(w io.Writer, md bool) error {
	var b strings.Builder
	for _, c := range r.Config {
		if md {
			fmt.Fprintf(&b, "- %s: `%s`\n", c[0], c[1])
		} else {
			fmt.Fprintf(&b, "%s: %s\n", c[0], c[1])
		}
	}
	for _, t := range r.Tables {
		b.WriteString("\n")
		t.writeText(&b, r.Alpha, md)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (t *Table) writeText(b *strings.Builder, alpha float64, md bool) {
	better := "lower is better"
	if t.Better > 0 {
		better = "higher is better"
	}
	fmt.Fprintf(b, "%s (%s; median ± 95%% CI; change vs %s with p-value)\n", t.Unit, better, t.Cols[0])

	// One scaler per table so that a column of numbers reads at one scale.
	var centers []float64
	for _, row := range t.Rows {
		for _, c := range row.Cells {
			if c != nil {
				centers = append(centers, c.Summary.Center)
			}
		}
	}
	sc := benchunit.CommonScale(centers, benchunit.ClassOf(t.Unit))

	var warnings []string
	warn := func(errs []error) string {
		var marks []string
		for _, e := range errs {
			i := slices.Index(warnings, e.Error())
			if i < 0 {
				warnings = append(warnings, e.Error())
				i = len(warnings) - 1
			}
			marks = append(marks, footnote(i+1))
		}
		return strings.Join(marks, "")
	}

	// Grid: label | per column: value, ±range[, change, ratio, stat].
	header := []string{""}
	for i, c := range t.Cols {
		header = append(header, c, "")
		if i > 0 {
			header = append(header, "vs "+t.Cols[0], "", "")
		}
	}
	grid := [][]string{header}
	for _, row := range t.Rows {
		line := []string{row.Label}
		for i, c := range row.Cells {
			n := 2
			if i > 0 {
				n = 5
			}
			if c == nil {
				line = append(line, make([]string, n)...)
				continue
			}
			line = append(line, sc.Format(c.Summary.Center), rangeString(c)+warn(c.Summary.Warnings))
			if i == 0 {
				continue
			}
			if c.Cmp == nil {
				line = append(line, "", "", "")
				continue
			}
			delta := c.Cmp.FormatDelta(c.Base, c.Summary.Center)
			ratio := ""
			if c.Significant(alpha) {
				ratio = ratioString(c.Base, c.Summary.Center, t.Better)
			}
			line = append(line, delta, ratio, "("+c.Cmp.String()+")"+warn(c.Cmp.Warnings))
		}
		grid = append(grid, line)
	}
	if gm := t.geomeans(); gm != nil {
		line := []string{"geomean"}
		for i, g := range gm {
			if math.IsNaN(g) {
				n := 2
				if i > 0 {
					n = 5
				}
				line = append(line, make([]string, n)...)
				continue
			}
			line = append(line, sc.Format(g), "")
			if i > 0 {
				line = append(line, fmt.Sprintf("%+.2f%%", (g/gm[0]-1)*100), ratioString(gm[0], g, t.Better), "")
			}
		}
		grid = append(grid, line)
	}
	if md {
		b.WriteString("\n")
		writeMarkdown(b, grid)
		b.WriteString("\n")
	} else {
		writeGrid(b, grid)
	}
	for i, w := range warnings {
		fmt.Fprintf(b, "%s %s\n", footnote(i+1), w)
	}
}

// geomeans returns each column's geometric mean over the rows where every
// column has a positive value, or nil when that leaves no rows.
func (t *Table) geomeans() []float64 {
	sums := make([]float64, len(t.Cols))
	n := 0
rows:
	for _, row := range t.Rows {
		for _, c := range row.Cells {
			if c == nil || !(c.Summary.Center > 0) {
				continue rows
			}
		}
		for i, c := range row.Cells {
			sums[i] += math.Log(c.Summary.Center)
		}
		n++
	}
	if n < 2 {
		return nil
	}
	for i := range sums {
		sums[i] = math.Exp(sums[i] / float64(n))
	}
	return sums
}

func rangeString(c *Cell) string {
	if len(c.Sample.Values) < 2 {
		return ""
	}
	return "± " + c.Summary.PctRangeString()
}

// ratioString is the improvement factor of new over base: >1 is better.
func ratioString(base, new float64, better int) string {
	if base <= 0 || new <= 0 {
		return ""
	}
	f := base / new
	if better > 0 {
		f = new / base
	}
	return fmt.Sprintf("%.2fx", f)
}

func footnote(i int) string {
	const sup = "⁰¹²³⁴⁵⁶⁷⁸⁹"
	var out []rune
	digits := []rune(sup)
	for _, d := range fmt.Sprint(i) {
		out = append(out, digits[d-'0'])
	}
	return string(out)
}

// writeMarkdown writes the grid as a Markdown table, dropping columns that
// are empty in every row and merging each value with its ± range.
func writeMarkdown(b *strings.Builder, grid [][]string) {
	used := make([]bool, len(grid[0]))
	for _, line := range grid {
		for i, s := range line {
			if s != "" {
				used[i] = true
			}
		}
	}
	for li, line := range grid {
		var cells []string
		for i, s := range line {
			if !used[i] {
				continue
			}
			cells = append(cells, strings.ReplaceAll(s, "|", "\\|"))
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		if li == 0 {
			b.WriteString("|" + strings.Repeat(" --- |", len(cells)) + "\n")
		}
	}
}

// writeGrid pads every column to its widest cell: the first column left
// aligned, the others right aligned, two spaces between columns.
func writeGrid(b *strings.Builder, grid [][]string) {
	var widths []int
	for _, line := range grid {
		for i, s := range line {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(s))
		}
	}
	for li, line := range grid {
		var sb strings.Builder
		for i, s := range line {
			if widths[i] == 0 {
				continue
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(s))
			switch {
			case i == 0:
				sb.WriteString(s + pad)
			case li == 0:
				sb.WriteString("  " + s + pad) // headers read left to right
			default:
				sb.WriteString("  " + pad + s)
			}
		}
		b.WriteString(strings.TrimRight(sb.String(), " ") + "\n")
	}
}
