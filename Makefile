# atrest — see README.md. The two set-up commands:
#
#   make bench   run the benchmark comparison on embedded defaults
#   make test    run the tests (what CI runs)
#
# Each area keeps its targets in mk/<area>.mk and adds its CI steps to
# TEST_EXTRA there; `make help` lists every target.

GO      ?= go
GOFLAGS ?=
export GOFLAGS

# Tools are installed from the Go module proxy into ./bin on first use.
BIN := $(CURDIR)/bin
export PATH := $(BIN):$(PATH)

TEST_EXTRA :=

include $(sort $(wildcard mk/*.mk))

.DEFAULT_GOAL := help

.PHONY: help test fmt-check vet unit unit-purego generate-check

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
		awk 'BEGIN{FS=":.*## "}{printf "  %-18s %s\n", $$1, $$2}'

test: fmt-check vet unit unit-purego generate-check $(TEST_EXTRA) ## run every test and check, as CI does
	@echo "make test: all passed"

fmt-check: ## fail if any Go file is not gofmt-formatted
	@out=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$out" ] || { echo "not gofmt-formatted:"; echo "$$out"; exit 1; }

vet: ## go vet, default and purego builds
	$(GO) vet ./...
	$(GO) vet -tags purego ./...

unit: ## unit, vector and differential tests
	$(GO) test -count=1 ./...

unit-purego: ## the same tests on the generic paths only
	$(GO) test -count=1 -tags purego ./...

# Every generated assembly file must be reproduced byte for byte by its avo
# generator (each _asm directory has its own go.mod pinning avo v0.6.0), and
# internal/asmcheck must find no legacy-SSE instruction in a function using
# ymm/zmm registers, no return from one without VZEROUPPER, and no AVX-512
# instruction in a kernel meant for AVX2-only CPUs.
generate-check: ## regenerate the assembly, fail if it differs from what is committed or mixes SSE into AVX code
	@set -e; for d in $$(git ls-files '*_asm/*go.mod' | sed 's|/_asm/.*||' | sort -u); do \
		echo "go generate ./$$d"; (cd $$d && $(GO) generate .); done
	@git diff --exit-code -- '*.s' '*_stubs_amd64.go' || \
		{ echo "generated assembly differs from the committed files: run go generate and commit"; exit 1; }
	$(GO) test -count=1 ./internal/asmcheck
