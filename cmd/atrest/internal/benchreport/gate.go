package benchreport

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/perf/benchunit"
)

// Rule is one gated metric: Unit may worsen by at most Max (0.05 = 5%)
// against the base column.
type Rule struct {
	Unit string // tidied: "ns/op" is stored as "sec/op"
	Max  float64
}

// String returns the rule as ParseGate reads it, e.g. "allocs/op:5%".
func (r Rule) String() string { return fmt.Sprintf("%s:%g%%", r.Unit, r.Max*100) }

// ErrGateSpec is returned by ParseGate for a malformed specification.
var ErrGateSpec = errors.New("benchreport: bad gate specification")

// ParseGate parses a comma-separated list of unit:threshold pairs such as
// "allocs/op:5%,B/op:5%,sec/op:10%". The threshold is a percentage (the % is
// optional) and must not be negative.
func ParseGate(spec string) ([]Rule, error) {
	var rules []Rule
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		i := strings.LastIndexByte(part, ':')
		if i <= 0 {
			return nil, fmt.Errorf("%w: %q is not unit:threshold%%", ErrGateSpec, part)
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(part[i+1:]), "%"), 64)
		if err != nil || pct < 0 || math.IsInf(pct, 0) || math.IsNaN(pct) {
			return nil, fmt.Errorf("%w: threshold of %q must be a non-negative percentage", ErrGateSpec, part)
		}
		_, unit := benchunit.Tidy(1, strings.TrimSpace(part[:i]))
		rules = append(rules, Rule{Unit: unit, Max: pct / 100})
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrGateSpec)
	}
	return rules, nil
}

// Regression is a gated metric that worsened past its threshold.
type Regression struct {
	Row, Col, Unit string
	Base, New      float64
	Change         float64 // relative, +0.10 = 10% more
	Max            float64 // the rule's threshold
	P              float64
	Exact          bool // both samples had no spread; judged without a p-value
}

func (g Regression) String() string {
	why := fmt.Sprintf("p=%.3f", g.P)
	if g.Exact {
		why = "exact: no spread in either sample"
	}
	return fmt.Sprintf("%s: %s %s → %s (%+.2f%%, threshold %.2f%%) in %s; %s",
		g.Row, g.Unit, fmtNum(g.Base), fmtNum(g.New), g.Change*100, g.Max*100, g.Col, why)
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// Gate checks every rule against every non-base column of its unit's table.
// A cell regresses when its center is worse than the base center by more than
// the rule's threshold and either the comparison is significant (p < the
// report's alpha) or both samples have no spread at all — the case of
// deterministic metrics like allocs/op, where a rank test over few runs can
// never reach significance. A rule whose unit has no table is an error.
func (r *Report) Gate(rules []Rule) ([]Regression, error) {
	var out []Regression
	for _, rule := range rules {
		t := r.Table(rule.Unit)
		if t == nil {
			return nil, fmt.Errorf("benchreport: gate: no results have unit %s", rule.Unit)
		}
		for _, row := range t.Rows {
			base := row.Cells[0]
			for i, c := range row.Cells[1:] {
				if c == nil || c.Cmp == nil {
					continue
				}
				change := c.Change()
				worse := change > rule.Max
				if t.Better > 0 {
					worse = change < -rule.Max
				}
				if !worse {
					continue
				}
				exact := c.Exact(base)
				if !exact && !c.Significant(r.Alpha) {
					continue
				}
				out = append(out, Regression{
					Row: row.Label, Col: t.Cols[i+1], Unit: t.Unit,
					Base: c.Base, New: c.Summary.Center, Change: change, Max: rule.Max,
					P: c.Cmp.P, Exact: exact,
				})
			}
		}
	}
	return out, nil
}
