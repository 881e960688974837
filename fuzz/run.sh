#!/bin/sh
# fuzz/run.sh TIME TAGSETS TARGETS... — run each native fuzz target of
# ./fuzz for TIME under each tag set ("default" or e.g. "purego"), stop at the
# first failure (its log is printed), and print one summary line per run:
# target, tags, time, execs, new interesting inputs, new findings about the
# peer. The instrumented test binary is built once per tag set; the corpus
# the fuzzer grows is kept where go test -fuzz keeps it (GOCACHE/fuzz).
# Used by mk/fuzz.mk (make fuzz, make fuzz-smoke). Environment: GO, LOGDIR,
# MINTIME (-fuzzminimizetime: how long each minimization of a new interesting
# input may take; go test's 60s default would take the whole run, and the
# engine runs no new inputs while it minimizes).
set -eu
GO=${GO:-go}
LOGDIR=${LOGDIR:-bin/fuzz-logs}
MINTIME=${MINTIME:-5s}
time=$1
tagsets=$2
shift 2
mkdir -p "$LOGDIR"
LOGDIR=$(cd "$LOGDIR" && pwd)
cache="$($GO env GOCACHE)/fuzz/github.com/atrest-dev/atrest/fuzz"
summary="$LOGDIR/summary.txt"
printf '%-20s %-8s %6s %12s %6s %s\n' target tags time execs new findings > "$summary"
total_before=$(ls fuzz/findings | wc -l)
for tags in $tagsets; do
	flag=""
	[ "$tags" = default ] || flag="-tags=$tags"
	bin="$LOGDIR/fuzz-$tags.test"
	echo "fuzz: building the instrumented test binary ($tags)"
	$GO test $flag -c -fuzz=. -o "$bin" ./fuzz
	for t in "$@"; do
		log="$LOGDIR/$t-$tags.log"
		echo "fuzz: $t ($tags) for $time"
		before=$(ls fuzz/findings | wc -l)
		if ! (cd fuzz && "$bin" -test.run '^$' -test.fuzz "^$t\$" -test.fuzztime "$time" \
			-test.fuzzminimizetime "$MINTIME" -test.fuzzcachedir "$cache") > "$log" 2>&1; then
			# The fuzzing engine can report "context deadline exceeded" when
			# FUZZTIME ends while a worker minimizes a new interesting input;
			# no input failed then (none is written), so it is not a crash.
			if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log" &&
				[ "$(grep -c -- '--- FAIL' "$log")" = 1 ]; then
				echo "fuzz: $t ($tags): the engine stopped with 'context deadline exceeded' while minimizing; no failing input"
			else
				tail -n 60 "$log"
				echo "fuzz: $t ($tags) FAILED; the failing input is in fuzz/testdata/fuzz/$t/ (log: $log)"
				exit 1
			fi
		fi
		after=$(ls fuzz/findings | wc -l)
		last=$(grep 'execs:' "$log" | tail -n 1)
		execs=$(echo "$last" | sed -n 's/.*execs: \([0-9]*\).*/\1/p')
		new=$(echo "$last" | sed -n 's/.*new interesting: \([0-9]*\).*/\1/p')
		printf '%-20s %-8s %6s %12s %6s %s\n' "$t" "$tags" "$time" "${execs:-0}" "${new:-0}" "$((after - before))" >> "$summary"
	done
done
total_after=$(ls fuzz/findings | wc -l)
cat "$summary"
echo "fuzz: no crash in atrest; fuzz/findings holds $total_after findings about the peer ($((total_after - total_before)) new in this run)"
