#!/usr/bin/env bash
# scripts/bench.sh: the body of `make bench` (see mk/bench.mk).
#
# Runs the benchmark matrix in COUNT interleaved rounds (one process per
# round, every cell once per round, so slow drifts of a shared machine's load
# spread over all implementations instead of landing on one), writes the
# results to OUT with benchfmt configuration lines, prints the comparison
# table (impl=kubernetes is the base) and writes the SVG chart next to OUT.
#
# Environment: GO, BIN, OUT, COUNT, BENCHTIME, BENCH, NOTE.
set -euo pipefail
GO=${GO:-go}
BIN=${BIN:-bin}
: "${OUT:?}" "${COUNT:?}" "${BENCHTIME:?}" "${BENCH:?}"
NOTE=${NOTE:-}

mkdir -p "$BIN" "$(dirname "$OUT")"
"$GO" build -o "$BIN/atrest" ./cmd/atrest
"$GO" test -c -o "$BIN/bench.test" ./bench

commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && ! git diff --quiet HEAD -- ':!results' 2>/dev/null; then
	commit="$commit-dirty"
fi

tmp="$OUT.partial"
: > "$tmp"
start=$(date +%s)
echo "bench: $COUNT rounds of -bench '$BENCH' at -benchtime $BENCHTIME -> $OUT" >&2
for i in $(seq 1 "$COUNT"); do
	"$BIN/bench.test" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" -test.count 1 \
		-test.timeout 0 -atrest.progress -atrest.round "$i/$COUNT" -atrest.commit "$commit" \
		-atrest.note "$NOTE" >> "$tmp"
done
mv "$tmp" "$OUT"
echo "bench: done in $(( $(date +%s) - start ))s; results in $OUT" >&2

base=${OUT%.txt}
"$BIN/atrest" compare \
	--col '/impl@(kubernetes atrest stdlib generic)' --row '.name /provider /op /size' \
	--units sec/op,B/op,allocs/op \
	--svg "$base.svg" --title "atrest vs kubernetes: throughput against value size ($(basename "$base"))" \
	"$OUT" | tee "$base-table.txt"
# Every hot path of each provider against the apiserver, if the run has them.
if grep -q '^BenchmarkPaths/' "$OUT"; then
	{ echo; echo "## BenchmarkPaths: each registered implementation, forced in turn"; } | tee -a "$base-table.txt"
	"$BIN/atrest" compare --filter '.name:Paths' --col '/impl@(kubernetes atrest)' --row '.name /provider /op /size /path' \
		--units sec/op,allocs/op "$OUT" | tee -a "$base-table.txt"
fi
echo "bench: table in $base-table.txt, chart in $base.svg" >&2
