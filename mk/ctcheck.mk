# Timing-leak checks: see ctcheck/README.md.
#
# The short, CI-safe part is in `make unit` already (go test ./ctcheck
# ./cmd/atrest: the harness must flag a deliberately leaky compare and run
# every target; it never asserts |t| < 4.5). `make ctcheck` is the long run:
# every atrest target (impl.List of each package, generic included), the
# same under -tags purego, and the kube-apiserver peer, each with at least
# CTCHECK_N measurements per class, with and without cache eviction. It
# takes about an hour on a quiet 2-core machine; run it alone.

CTCHECK_N          ?= 1000000
CTCHECK_EVICT_SIZE ?= 524288
CTCHECK_OUT        ?= results/ctcheck-$(shell date -u +%Y-%m-%d).txt

.PHONY: ctcheck

ctcheck: ## long timing-leak run (10^6 per class, ± eviction), atrest and peer; table in results/ctcheck-<date>.txt
	@mkdir -p $(dir $(CTCHECK_OUT))
	$(GO) build -o $(BIN)/atrest ./cmd/atrest
	$(GO) build -tags purego -o $(BIN)/atrest-purego ./cmd/atrest
	@set -u; out=$(CTCHECK_OUT); st=0; \
	case $$out in /*) abs=$$out;; *) abs=$(CURDIR)/$$out;; esac; \
	echo "# make ctcheck $$(date -u +%FT%TZ), $$($(GO) version), n=$(CTCHECK_N) per class, evict-size=$(CTCHECK_EVICT_SIZE)" > $$out; \
	echo "## atrest (default build)" >> $$out; \
	$(BIN)/atrest ctcheck -n $(CTCHECK_N) -evict both -evict-size $(CTCHECK_EVICT_SIZE) >> $$out || st=1; \
	echo "## atrest (-tags purego)" >> $$out; \
	$(BIN)/atrest-purego ctcheck -n $(CTCHECK_N) -evict both -evict-size $(CTCHECK_EVICT_SIZE) >> $$out || st=1; \
	echo "## kube-apiserver peer (k8s.io/apiserver, test-only)" >> $$out; \
	$(GO) test ./ctcheck -run '^TestPeer$$' -count=1 -timeout 0 -args -ctcheck.n=$(CTCHECK_N) \
		-ctcheck.evict=both -ctcheck.evict-size=$(CTCHECK_EVICT_SIZE) -ctcheck.out=$$abs > /dev/null || st=1; \
	cat $$out; exit $$st
