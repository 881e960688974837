# End-to-end: a real embedded etcd in the loop. The e2e, scan,
# rotate and cmd/atrest tests start their own etcd and run in `make unit`
# (go test ./...), so no CI step is added here. See docs/etcd.md.
#
#   make e2e-bench            put/get through etcd, atrest vs kube-apiserver transformers,
#                             1 and 3 members; writes results/e2e-<date>.txt and the benchstat tables
#   make demo-scan [DEMO_N=100000]   fill an etcd with DEMO_N values, then atrest scan and rotate on it;
#                             writes results/e2e-demo-<date>.txt

E2E_COUNT     ?= 5
E2E_BENCHTIME ?= 200x
E2E_BENCH     ?= E2E
E2E_DATE      := $(shell date -u +%Y-%m-%d)
E2E_OUT       ?= results/e2e-$(E2E_DATE)
DEMO_N        ?= 100000
DEMO_DIR      ?= $(BIN)/demo
BENCHSTAT_VERSION := v0.0.0-20260908200009-22c9c6c9d4da

.PHONY: e2e-bench demo-scan

$(BIN)/benchstat:
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION)

e2e-bench: $(BIN)/benchstat ## end-to-end put/get through a real etcd (1 and 3 members): results/e2e-<date>.txt and .benchstat.txt
	@mkdir -p results
	$(GO) test -run '^$$' -bench '$(E2E_BENCH)' -benchtime $(E2E_BENCHTIME) -count $(E2E_COUNT) ./e2e/ > $(E2E_OUT).txt
	$(GO) test -run '^$$' -bench '$(E2E_BENCH)' -benchtime $(E2E_BENCHTIME) -count $(E2E_COUNT) ./e2e/ -e2e.members=3 > $(E2E_OUT)-3members.txt
	{ echo "# one member"; $(BIN)/benchstat -col /impl $(E2E_OUT).txt; \
	  echo; echo "# three members"; $(BIN)/benchstat -col /impl $(E2E_OUT)-3members.txt; } > $(E2E_OUT).benchstat.txt
	@cat $(E2E_OUT).benchstat.txt

demo-scan: ## fill an etcd with DEMO_N values via kube-apiserver's transformers, then atrest scan, rotate, scan: results/e2e-demo-<date>.txt
	@mkdir -p results $(BIN)
	$(GO) build -o $(BIN)/atrest ./cmd/atrest
	$(GO) build -o $(BIN)/etcddemo ./e2e/cmd/etcddemo
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	@set -e; out=results/e2e-demo-$(E2E_DATE).txt; : > $$out; \
	$(BIN)/etcddemo -n $(DEMO_N) -dir $(DEMO_DIR) & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null || :' EXIT; \
	while [ ! -s $(DEMO_DIR)/endpoints ]; do kill -0 $$pid || exit 1; sleep 1; done; \
	ep=$$(cat $(DEMO_DIR)/endpoints); cd $(DEMO_DIR); \
	for cmd in "scan --config enc.yaml --endpoints $$ep" \
	           "rotate --config enc.yaml --endpoints $$ep --dry-run" \
	           "rotate --config enc.yaml --endpoints $$ep --apply" \
	           "scan --config enc.yaml --endpoints $$ep" \
	           "scan --config enc.yaml --snapshot snapshot.db --quiet"; do \
		echo "\$$ atrest $$cmd" | sed "s|$$ep|$$(echo $$ep)|" >> $(CURDIR)/$$out; \
		start=$$(date +%s.%N); $(BIN)/atrest $$cmd >> $(CURDIR)/$$out 2>$(CURDIR)/$$out.stderr || true; \
		tail -1 $(CURDIR)/$$out.stderr >> $(CURDIR)/$$out; \
		echo "(elapsed $$(awk "BEGIN{printf \"%.1f\", $$(date +%s.%N) - $$start}") s)" >> $(CURDIR)/$$out; echo >> $(CURDIR)/$$out; \
	done; rm -f $(CURDIR)/$$out.stderr; cat $(CURDIR)/$$out
