package risk

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseCount parses a count or probability written as 200000, 2e5, 200k, 4M,
// 2G, 2^32, 2^-32 or 1.5*2^32 (k, M, G and T are powers of 1000; '_' is
// ignored).
func ParseCount(s string) (float64, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "_", ""))
	if a, b, ok := strings.Cut(s, "*"); ok {
		x, err := ParseCount(a)
		if err != nil {
			return 0, err
		}
		y, err := ParseCount(b)
		return x * y, err
	}
	if base, exp, ok := strings.Cut(s, "^"); ok {
		b, err1 := strconv.ParseFloat(base, 64)
		e, err2 := strconv.ParseFloat(exp, 64)
		if err1 != nil || err2 != nil {
			return 0, fmt.Errorf("bad number %q", s)
		}
		return math.Pow(b, e), nil
	}
	mult := 1.0
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult = 1e3
		case 'M':
			mult = 1e6
		case 'G':
			mult = 1e9
		case 'T':
			mult = 1e12
		}
		if mult != 1 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return v * mult, nil
}

// ParseRate parses a positive rate in writes per second, written as a count
// with an optional unit: 100, 100/s, 6000/min, 1e6/h, 1e7/d.
func ParseRate(s string) (float64, error) {
	num, unit, _ := strings.Cut(s, "/")
	v, err := ParseCount(num)
	if err != nil {
		return 0, err
	}
	switch unit {
	case "", "s":
	case "min", "m":
		v /= 60
	case "h":
		v /= 3600
	case "d":
		v /= 86400
	default:
		return 0, fmt.Errorf("unknown unit %q (want s, min, h or d)", unit)
	}
	if !(v > 0) || math.IsInf(v, 0) {
		return 0, errors.New("want a positive rate")
	}
	return v, nil
}

// year is the length of a year in seconds in lifetimes: 365.25 days.
const year = 365.25 * 86400

// ParseLifetime returns the seconds of a positive lifetime written as a Go
// duration (720h) or as a count of days, weeks or years (90d, 2w, 1y).
func ParseLifetime(s string) (float64, error) {
	var sec float64
	if n := len(s); n > 1 && strings.ContainsRune("dwy", rune(s[n-1])) {
		v, err := ParseCount(s[:n-1])
		if err != nil {
			return 0, err
		}
		sec = v * map[byte]float64{'d': 86400, 'w': 7 * 86400, 'y': year}[s[n-1]]
	} else {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, errors.New("want a duration such as 720h, 90d or 1y")
		}
		sec = d.Seconds()
	}
	if !(sec > 0) || math.IsInf(sec, 0) {
		return 0, errors.New("want a positive lifetime")
	}
	return sec, nil
}

// ParseWidths parses a list of nonce widths for Validate, "16,20,24" or a
// range "16-24", each from 8 to 44 bits.
func ParseWidths(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad width %q", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad range %q", part)
			}
		}
		for w := a; w <= b; w++ {
			if w < 8 || w > 44 {
				return nil, fmt.Errorf("width %d outside 8..44", w)
			}
			out = append(out, w)
		}
	}
	return out, nil
}

// FormatProb formats a probability as the risk tables print it: exact powers
// of two below 10^-3 as 2^-N, other small values as 2^-N.N (with the decimal
// value), larger ones with four decimals.
func FormatProb(p float64) string {
	switch {
	case math.IsNaN(p):
		return "n/a (past the scheme's limit)"
	case p == 0:
		return "0"
	case p == 1:
		return "1"
	case p < 1e-3 && math.Log2(p) == math.Round(math.Log2(p)):
		return fmt.Sprintf("2^%.0f", math.Log2(p))
	case p < 1e-3:
		return fmt.Sprintf("2^%.1f (%.2g)", math.Log2(p), p)
	default:
		return fmt.Sprintf("%.4f", p)
	}
}

// FormatCount formats a count of writes (or a rate): whole numbers below a
// million as they are, others with four significant digits, and a million or
// more with three and their binary logarithm, e.g. "3.16e+09 (2^31.6)".
func FormatCount(n float64) string {
	switch {
	case n < 1e6 && n == math.Floor(n):
		return strconv.FormatFloat(n, 'f', -1, 64)
	case n < 1e6:
		return strconv.FormatFloat(n, 'g', 4, 64)
	default:
		return fmt.Sprintf("%.3g (2^%.1f)", n, math.Log2(n))
	}
}

// formatMax formats MaxWrites of s for the tables.
func formatMax(m float64, s Scheme) string {
	switch {
	case math.IsNaN(m):
		return "n/a"
	case m < 2:
		return "none (target unreachable)"
	case m >= s.Limit:
		return FormatCount(m) + " (scheme limit)"
	case m >= math.Ldexp(1, 400):
		return "unbounded"
	}
	return FormatCount(m)
}

// formatYears formats a key lifetime in seconds.
func formatYears(sec float64) string {
	switch {
	case math.IsNaN(sec):
		return "n/a"
	case sec >= 1000*year:
		return fmt.Sprintf("%.3g years", sec/year)
	case sec >= year:
		return fmt.Sprintf("%.1f years", sec/year)
	case sec >= 86400:
		return fmt.Sprintf("%.1f days", sec/86400)
	case sec >= 3600:
		return fmt.Sprintf("%.1f hours", sec/3600)
	default:
		return fmt.Sprintf("%.0f s", sec)
	}
}
