# Benchmarks: the provider × op × size × impl matrix in bench/,
# compared with k8s.io/apiserver's transformers and the bare standard-library
# primitives. See docs/benchmarks.md.
#
#   make bench                         the full matrix, table and chart (3.5 min on a quiet 2-core VM)
#   make bench COUNT=5 BENCHTIME=50ms BENCH='Transform/provider=aesgcm'
#   make compare OLD=results/a.txt NEW=results/b.txt [GATE='sec/op:5%']

COUNT     ?= 10
BENCHTIME ?= 50ms
BENCH     ?= .
NOTE      ?=
BENCH_CPU := $(shell (grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 || sysctl -n machdep.cpu.brand_string 2>/dev/null || uname -m) | tr -cs 'A-Za-z0-9' '-' | sed 's/^-*//;s/-*$$//' | tr A-Z a-z)
BENCH_OUT ?= results/$(BENCH_CPU)-$(shell date -u +%Y-%m-%d).txt

GATE           ?= allocs/op:5%,B/op:5%
GATE_BENCH     ?= ^Benchmark(Transform|Rotation)$$
GATE_BENCHTIME ?= 10x
GATE_COUNT     ?= 3

TEST_EXTRA += bench-smoke bench-gate

.PHONY: bench compare bench-smoke bench-gate

bench: ## run the benchmark matrix (COUNT rounds, BENCHTIME, BENCH regexp), write results/<cpu>-<date>.{txt,svg} and print the table
	@GO='$(GO)' BIN='$(BIN)' OUT='$(BENCH_OUT)' COUNT='$(COUNT)' BENCHTIME='$(BENCHTIME)' \
		BENCH='$(BENCH)' NOTE='$(NOTE)' ./scripts/bench.sh

compare: ## compare two result files: make compare OLD=a.txt NEW=b.txt [GATE=allocs/op:5%,B/op:5%]
	@test -n '$(OLD)' -a -n '$(NEW)' || { echo "usage: make compare OLD=old.txt NEW=new.txt [GATE=...]"; exit 2; }
	@$(GO) build -o $(BIN)/atrest ./cmd/atrest
	$(BIN)/atrest compare $(if $(filter command line,$(origin GATE)),--gate '$(GATE)') '$(OLD)' '$(NEW)'

bench-smoke: ## run every benchmark of the matrix once (CI)
	@mkdir -p $(BIN)
	$(GO) test -count=1 -run '^$$' -bench . -benchtime=1x ./bench/ > $(BIN)/bench-smoke.txt || \
		{ cat $(BIN)/bench-smoke.txt; exit 1; }
	@echo "bench-smoke: every benchmark ran once"

bench-gate: ## fail if allocs/op or B/op regressed between HEAD^ and HEAD, built side by side (CI)
	@GO='$(GO)' BIN='$(BIN)' GATE='$(GATE)' GATE_BENCH='$(GATE_BENCH)' GATE_BENCHTIME='$(GATE_BENCHTIME)' \
		GATE_COUNT='$(GATE_COUNT)' ./scripts/bench-gate.sh
