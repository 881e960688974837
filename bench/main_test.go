package bench

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"k8s.io/apiserver/pkg/storage/value"

	"github.com/atrest-dev/atrest/internal/cpu"
	"github.com/atrest-dev/atrest/internal/impl"
	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

var (
	flagCommit   = flag.String("atrest.commit", "", "commit to record in the `commit:` configuration line (default: git rev-parse of the working tree)")
	flagProgress = flag.Bool("atrest.progress", false, "print benchmarks done/total to standard error")
	flagRound    = flag.String("atrest.round", "1/1", "`i/n`: this process is round i of n runs of the same selection (for progress)")
	flagNote     = flag.String("atrest.note", "", "free text recorded as a `note:` configuration line")
)

// countersOK is set once by TestMain: whether hardware counters can be opened.
var countersOK bool

func TestMain(m *testing.M) {
	flag.Parse()
	// The apiserver's transformers log failed reads through klog; silence it.
	kubepeer.SilenceKlog()
	// Record the transformer metrics as a running apiserver does.
	value.RegisterMetrics()

	benchRE := flag.Lookup("test.bench").Value.String()
	if benchRE == "" {
		os.Exit(m.Run())
	}
	round, rounds := 1, 1
	if n, _ := fmt.Sscanf(*flagRound, "%d/%d", &round, &rounds); n != 2 || round < 1 || rounds < round {
		round, rounds = 1, 1
	}
	if err := probeCounters(); err != nil {
		if round == 1 { // one line per run, not per round
			fmt.Fprintf(os.Stderr, "perf counters unavailable: %v; reporting time only\n", err)
		}
	} else {
		countersOK = true
	}
	printConfig(os.Stdout)

	done := func() {}
	if *flagProgress {
		count := 1
		if f := flag.Lookup("test.count"); f != nil {
			fmt.Sscan(f.Value.String(), &count)
		}
		per := len(selected(matrix(), benchRE, flag.Lookup("test.skip").Value.String())) * count
		done = watchProgress((round-1)*per, rounds*per)
	}
	code := m.Run()
	done()
	os.Exit(code)
}

// printConfig writes benchfmt configuration lines describing this run.
// (The testing package adds goos, goarch, pkg and cpu itself.)
func printConfig(w io.Writer) {
	commit := *flagCommit
	if commit == "" {
		commit = gitCommit()
	}
	fmt.Fprintf(w, "go: %s\n", runtime.Version())
	fmt.Fprintf(w, "commit: %s\n", commit)
	fmt.Fprintf(w, "gomaxprocs: %d\n", runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "features: %s\n", strings.Join(cpu.Features(), ","))
	fmt.Fprintf(w, "cpu-id: %s\n", cpu.Identity())
	for _, pkg := range impl.Packages() {
		fmt.Fprintf(w, "impl-%s: %s\n", pkg, impl.Describe(pkg))
	}
	if countersOK {
		fmt.Fprintf(w, "counters: cpu-cycles,instructions\n")
	} else {
		fmt.Fprintf(w, "counters: none\n")
	}
	if *flagNote != "" {
		fmt.Fprintf(w, "note: %s\n", strings.Join(strings.Fields(*flagNote), " "))
	}
}

func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if err := exec.Command("git", "diff", "--quiet", "HEAD", "--", "..").Run(); err != nil {
		c += "-dirty"
	}
	return c
}

// selected returns the cells that go test's -bench (and -skip) patterns
// select, matching name elements the way the testing package does: the
// pattern is split at slashes outside brackets and parentheses, element i of
// the name must match part i, and missing parts match anything.
func selected(all []cell, bench, skip string) []cell {
	match := compileElems(bench)
	var skipRE []*regexp.Regexp
	if skip != "" {
		skipRE = compileElems(skip)
	}
	var out []cell
	for _, c := range all {
		elems := strings.Split(c.name(), "/")
		if !matchElems(match, elems) {
			continue
		}
		if skipRE != nil && matchSkip(skipRE, elems) {
			continue
		}
		out = append(out, c)
	}
	return out
}

func compileElems(pattern string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, p := range splitRegexp(pattern) {
		re, err := regexp.Compile(p)
		if err != nil {
			return []*regexp.Regexp{regexp.MustCompile(`^\b$`)} // the testing package rejects it anyway
		}
		out = append(out, re)
	}
	return out
}

func matchElems(res []*regexp.Regexp, elems []string) bool {
	for i, re := range res {
		if i >= len(elems) {
			break
		}
		if !re.MatchString(elems[i]) {
			return false
		}
	}
	return true
}

// matchSkip reports whether -skip removes a benchmark: a prefix of its name
// elements matches every part of the pattern.
func matchSkip(res []*regexp.Regexp, elems []string) bool {
	if len(res) > len(elems) {
		return false
	}
	return matchElems(res, elems)
}

// splitRegexp splits a -bench pattern at slashes outside [] and ().
func splitRegexp(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '(':
			depth++
		case ']', ')':
			depth--
		case '\\':
			i++
		case '/':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// watchProgress passes standard output through a pipe and counts finished
// benchmark result lines from n0, printing "bench: done/total name" to
// standard error. The returned function flushes and restores standard output.
func watchProgress(n0, total int) (done func()) {
	real := os.Stdout
	r, w, err := os.Pipe()
	if err != nil {
		return func() {}
	}
	os.Stdout = w
	tty := false
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		tty = true
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		n, lastPct := n0, -1
		if total > 0 {
			lastPct = n0 * 10 / total
		}
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(real, line)
			if !strings.HasPrefix(line, "Benchmark") || !strings.Contains(line, " ns/op") {
				continue
			}
			n++
			name, _, _ := strings.Cut(line, " ")
			name, _, _ = strings.Cut(name, "\t")
			switch {
			case tty:
				fmt.Fprintf(os.Stderr, "\r\x1b[Kbench: %d/%d %s", n, total, name)
			case total > 0 && n*10/total != lastPct:
				lastPct = n * 10 / total
				fmt.Fprintf(os.Stderr, "bench: %d/%d done (%d%%)\n", n, total, n*100/total)
			}
		}
		if tty && n == total {
			fmt.Fprintf(os.Stderr, "\r\x1b[Kbench: %d/%d done\n", n, total)
		}
	}()
	return func() {
		os.Stdout = real
		w.Close()
		wg.Wait()
	}
}
