package ctcheck

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
)

// Errors of Select; their messages are written to follow the flag that
// gave the patterns ("-target: no target matches ...").
var (
	ErrPattern  = errors.New("bad pattern")
	ErrNoMatch  = errors.New("no target matches")
	ErrNoTarget = errors.New("no target selected")
)

// Select keeps the targets whose ID (name/impl) matches one of the
// comma-separated path.Match patterns, in the order of all, each once. A
// pattern without '/' matches every implementation of a name ("cbc-open" is
// "cbc-open/*"). A pattern that matches nothing is an error (ErrNoMatch), as
// is a selection of nothing (ErrNoTarget).
func Select(all []Target, patterns string) ([]Target, error) {
	var out []Target
	used := map[string]bool{}
	for _, p := range strings.Split(patterns, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			p += "/*"
		}
		matched := false
		for _, t := range all {
			ok, err := path.Match(p, t.ID())
			if err != nil {
				return nil, fmt.Errorf("%w %q", ErrPattern, p)
			}
			if ok {
				matched = true
				if !used[t.ID()] {
					used[t.ID()] = true
					out = append(out, t)
				}
			}
		}
		if !matched {
			return nil, fmt.Errorf("%w %q", ErrNoMatch, p)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoTarget
	}
	return out, nil
}

// RunAll runs each target once per eviction mode of modes (as EvictModes
// returns them), with cfg otherwise, and returns the results in that order.
// It stops at the first error; when ctx is done it returns the results of
// the runs that completed and ctx's error.
func RunAll(ctx context.Context, targets []Target, modes []bool, cfg Config) ([]Result, error) {
	var results []Result
	for _, t := range targets {
		for _, ev := range modes {
			cfg.Evict = ev
			r, err := Run(ctx, t, cfg)
			if err != nil {
				if ctx.Err() != nil {
					return results, ctx.Err()
				}
				return results, err
			}
			results = append(results, r)
		}
	}
	return results, nil
}
