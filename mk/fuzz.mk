# Fuzzing: native Go fuzz targets for every decrypt path, the
# configuration loader, differential targets against k8s.io/apiserver and a
# structured randfill target. See docs/fuzzing.md.
#
#   make fuzz                          every target for FUZZTIME (60s), default and purego (~20 min)
#   make fuzz FUZZTIME=10m FUZZ_TARGETS=FuzzKubeDecrypt FUZZ_TAGS=default
#   FUZZ_MINTIME (5s): how long each minimization may take; the engine runs no
#   new inputs meanwhile, and go test's default of 60s would stall a 60s run
#   make fuzz-smoke                    every target for 10s, default and purego (CI, ~4 min)
#
# A crash in atrest fails the run and leaves the input in
# fuzz/testdata/fuzz/<Target>/ (commit it: it becomes a regression test).
# Misbehaviour of the peer is recorded in fuzz/findings/ instead.

FUZZTIME         ?= 60s
FUZZ_SMOKE_TIME  ?= 10s
FUZZ_MINTIME     ?= 5s
FUZZ_TAGS        ?= default purego
FUZZ_SMOKE_TAGS  ?= default purego
FUZZ_TARGETS     ?= FuzzCBCOpen FuzzGCMOpen FuzzSecretboxOpen FuzzChainDecrypt FuzzParseConfig \
                    FuzzKubeDecrypt FuzzKubeEncrypt FuzzKubeParseConfig FuzzChains FuzzKMSParse FuzzKMSDecrypt

TEST_EXTRA += fuzz-smoke

.PHONY: fuzz fuzz-smoke

fuzz: ## run every fuzz target for FUZZTIME (default 60s), default and -tags purego; summary in bin/fuzz-logs/summary.txt
	@GO='$(GO)' LOGDIR='$(BIN)/fuzz-logs' MINTIME='$(FUZZ_MINTIME)' ./fuzz/run.sh '$(FUZZTIME)' '$(FUZZ_TAGS)' $(FUZZ_TARGETS)

fuzz-smoke: ## run every fuzz target for 10s (CI)
	@GO='$(GO)' LOGDIR='$(BIN)/fuzz-smoke-logs' MINTIME='$(FUZZ_MINTIME)' ./fuzz/run.sh '$(FUZZ_SMOKE_TIME)' '$(FUZZ_SMOKE_TAGS)' $(FUZZ_TARGETS)
