#!/usr/bin/env bash
# scripts/bench-gate.sh: the body of `make bench-gate` (see mk/bench.mk).
#
# Builds the benchmark binary of HEAD and of its parent side by side (each
# from its own git worktree in a temporary directory, so uncommitted changes
# play no part), runs the deterministic part of the matrix with both, and
# fails when allocs/op or B/op regressed past GATE (atrest compare --gate).
# Without a parent (first commit, shallow clone) or without bench/ in the
# parent it says so and passes.
#
# Environment: GO, BIN, GATE, GATE_BENCH, GATE_BENCHTIME, GATE_COUNT.
set -euo pipefail
GO=${GO:-go}
BIN=${BIN:-bin}
GATE=${GATE:-allocs/op:5%,B/op:5%}
GATE_BENCH=${GATE_BENCH:-^Benchmark(Transform|Rotation)\$}
GATE_BENCHTIME=${GATE_BENCHTIME:-10x}
GATE_COUNT=${GATE_COUNT:-3}

if ! parent=$(git rev-parse -q --verify 'HEAD^{commit}^' 2>/dev/null); then
	echo "bench-gate: HEAD has no parent here (first commit or shallow clone): skipped"
	exit 0
fi
head=$(git rev-parse HEAD)
if ! git cat-file -e "$parent:bench" 2>/dev/null; then
	echo "bench-gate: parent ${parent:0:12} has no bench/: nothing to compare, skipped"
	exit 0
fi

tmp=$(mktemp -d)
cleanup() {
	git worktree remove --force "$tmp/head" >/dev/null 2>&1 || true
	git worktree remove --force "$tmp/parent" >/dev/null 2>&1 || true
	rm -rf "$tmp"
	git worktree prune >/dev/null 2>&1 || true
}
trap cleanup EXIT

git worktree add -q --detach "$tmp/head" "$head"
git worktree add -q --detach "$tmp/parent" "$parent"
mkdir -p "$BIN"
"$GO" build -o "$BIN/atrest" ./cmd/atrest
(cd "$tmp/head" && "$GO" test -c -o "$tmp/head.test" ./bench)
if ! (cd "$tmp/parent" && "$GO" test -c -o "$tmp/parent.test" ./bench); then
	echo "bench-gate: the parent's benchmarks do not build: nothing to compare, skipped"
	exit 0
fi

for side in parent head; do
	echo "bench-gate: running $side ($(git rev-parse --short=12 "$([ $side = head ] && echo "$head" || echo "$parent")")) -bench '$GATE_BENCH' -benchtime $GATE_BENCHTIME -count $GATE_COUNT"
	(cd "$tmp/$side/bench" && "$tmp/$side.test" -test.run '^$' -test.bench "$GATE_BENCH" \
		-test.benchtime "$GATE_BENCHTIME" -test.count "$GATE_COUNT" > "$tmp/$side.txt")
done
"$BIN/atrest" compare --units B/op,allocs/op --gate "$GATE" \
	"parent=$tmp/parent.txt" "head=$tmp/head.txt" > "$tmp/gate.txt" || st=$?
# The full table is long; show the verdict, and the table only on failure.
if [ "${st:-0}" -ne 0 ]; then
	cat "$tmp/gate.txt"
	exit "$st"
fi
grep -A1000 '^gate ' "$tmp/gate.txt"
