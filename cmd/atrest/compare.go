package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/atrest-dev/atrest/cmd/atrest/internal/benchreport"
)

// errGate is returned when a gated metric regressed; the command exits 1.
var errGate = errors.New("regression gate failed")

func init() {
	register(command{
		name:    "compare",
		summary: "compare benchmark results (benchstat-style table, regression gate, chart)",
		run:     runCompare,
	})
}

const compareUsage = `[flags] OLD NEW | [flags] --col PROJECTION FILE...

Reads Go benchmark results and prints, per unit, a table whose first column
is the base and whose other columns show the change from it with a
confidence interval and a p-value (Mann-Whitney U; "~" when not significant
at --alpha). With two files the columns are the files (OLD is the base);
--col and --row take benchstat projections, e.g.
  atrest compare --col '/impl@(kubernetes atrest stdlib generic)' results/x.txt

--gate 'allocs/op:5%,B/op:5%' exits 1 when a listed metric is worse than the
base by more than its threshold with p < --alpha, or, when neither sample has
any spread (deterministic metrics over few runs), by more than its threshold
at all. --svg writes a throughput-vs-size chart of the Transform matrix.`

func runCompare(_ context.Context, args []string, sio stdio) error {
	fs := newFlags(sio, "compare", compareUsage)
	var (
		row    = fs.String("row", ".fullname", "benchstat `projection` for the rows")
		col    = fs.String("col", ".file", "benchstat `projection` for the columns; the first column is the base")
		filter = fs.String("filter", "*", "benchstat filter `query` selecting the results")
		units  = fs.String("units", "", "comma-separated `units` to tabulate, in order (default all)")
		alpha  = fs.Float64("alpha", 0.05, "significance `level` for changes and the gate")
		gate   = fs.String("gate", "", "fail when these metrics regress, e.g. `allocs/op:5%,B/op:5%`")
		svg    = fs.String("svg", "", "also write a throughput chart to `file`")
		format = fs.String("format", "text", "output `format`: text or md (Markdown tables)")
		title  = fs.String("title", "atrest: throughput against value size", "chart `title`")
	)
	// Flags may follow the file names too.
	var files []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) == 0 {
		fs.Usage()
		return errUsage
	}
	if *col == ".file" && len(files) != 2 {
		return fmt.Errorf("%w: want OLD and NEW files (or --col to compare within files), got %d", errUsage, len(files))
	}
	if *format != "text" && *format != "md" {
		return fmt.Errorf("%w: --format must be text or md", errUsage)
	}
	if *alpha <= 0 || *alpha >= 1 {
		return fmt.Errorf("%w: --alpha must be in (0, 1)", errUsage)
	}
	var rules []benchreport.Rule
	if *gate != "" {
		var err error
		if rules, err = benchreport.ParseGate(*gate); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	var unitList []string
	for _, u := range strings.Split(*units, ",") {
		if u = strings.TrimSpace(u); u != "" {
			unitList = append(unitList, u)
		}
	}

	set, warnings, err := benchreport.Read(files...)
	if err != nil {
		return err
	}
	if warnings != nil { // lines that are not benchmark results: say so and go on
		fmt.Fprintf(sio.err, "atrest compare: warning: %v\n", errors.Join(warnings...))
	}
	rep, err := benchreport.Build(set, benchreport.Options{
		Row: *row, Col: *col, Filter: *filter, Units: unitList, Alpha: *alpha,
	})
	if err != nil {
		return err
	}
	write := rep.WriteText
	if *format == "md" {
		write = rep.WriteMarkdown
	}
	if err := write(sio.out); err != nil {
		return err
	}
	if *svg != "" {
		f, err := os.Create(*svg)
		if err != nil {
			return err
		}
		if err := benchreport.WriteChart(f, set, "Transform", *title); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if rules == nil {
		return nil
	}
	regs, err := rep.Gate(rules)
	if err != nil {
		return err
	}
	var spec []string
	for _, r := range rules {
		spec = append(spec, r.String())
	}
	if len(regs) == 0 {
		fmt.Fprintf(sio.out, "\ngate %s (alpha %g): pass\n", strings.Join(spec, ","), *alpha)
		return nil
	}
	fmt.Fprintf(sio.out, "\ngate %s (alpha %g): %d regression(s)\n", strings.Join(spec, ","), *alpha, len(regs))
	for _, g := range regs {
		fmt.Fprintf(sio.out, "  FAIL %s\n", g)
	}
	return fmt.Errorf("%w: %d regression(s)", errGate, len(regs))
}
