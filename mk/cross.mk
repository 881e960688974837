# Other architectures: the unit, vector and differential tests of the
# primitives and the envelope, built for arm64 and s390x (big-endian) and run
# under qemu-user, and for 386 natively (no emulator). See
# docs/implementations.md for what each GOARCH dispatches to.
#
#   make cross            vet and test arm64, s390x and 386 (CI)
#   make cross-arm64      one of them (likewise cross-s390x, cross-386)
#   make cross-demo       the arm64 dispatch under qemu-aarch64: the impl lists
#                         of cbc and gcm, and what automatic dispatch takes,
#                         default and purego
#
# qemu-user-static comes from Debian (apt-get, with sudo when not root) the
# first time it is missing. Under qemu-user the CPU is qemu's "max" model:
# arm64 has the AES and PMULL instructions, so cbc and gcm take the standard
# library's path there; s390x has no CPACF AES, so they take the generic one.
#
# CROSS_PKGS are the packages whose tests run on every architecture; the
# long differential tests run with -short (every length to 600 bytes
# rather than 4096) to keep CI within its budget. rotate and cmd/atrest are
# not in the 386 list: they fail there with "unaligned 64-bit atomic
# operation" until rotate's counter is an atomic.Int64.

CROSS_PKGS      ?= ./cbc ./aead/... ./envelope ./internal/aesni ./internal/alias ./internal/cpu \
                   ./internal/ctaes ./internal/impl ./internal/benchreport ./scan
CROSS_386_PKGS  ?= $(CROSS_PKGS)
CROSS_TESTFLAGS ?= -short -count=1
QEMU_AARCH64    ?= qemu-aarch64-static
QEMU_S390X      ?= qemu-s390x-static

TEST_EXTRA += cross

.PHONY: cross cross-arm64 cross-s390x cross-386 cross-demo qemu-user

cross: cross-386 cross-arm64 cross-s390x ## vet and test the primitives for 386 (native), arm64 and s390x (qemu-user)

qemu-user: ## install Debian's qemu-user-static if qemu-aarch64-static or qemu-s390x-static is missing
	@if ! command -v $(QEMU_AARCH64) >/dev/null || ! command -v $(QEMU_S390X) >/dev/null; then \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		echo "installing qemu-user-static"; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq qemu-user-static >/dev/null; \
	fi

cross-arm64: qemu-user ## vet and test for arm64 under qemu-aarch64
	GOARCH=arm64 $(GO) vet $(CROSS_PKGS)
	GOARCH=arm64 $(GO) test $(CROSS_TESTFLAGS) -exec $(QEMU_AARCH64) $(CROSS_PKGS)
	GOARCH=arm64 $(GO) test $(CROSS_TESTFLAGS) -tags purego -exec $(QEMU_AARCH64) ./cbc ./aead

cross-s390x: qemu-user ## vet and test for s390x (big-endian) under qemu-s390x
	GOARCH=s390x $(GO) vet $(CROSS_PKGS)
	GOARCH=s390x $(GO) test $(CROSS_TESTFLAGS) -exec $(QEMU_S390X) $(CROSS_PKGS)

cross-386: ## vet and test for 386, natively
	GOARCH=386 $(GO) vet ./...
	GOARCH=386 $(GO) test $(CROSS_TESTFLAGS) $(CROSS_386_PKGS)

cross-demo: qemu-user ## show the arm64 dispatch of cbc and gcm under qemu-aarch64, default and purego
	GOARCH=arm64 $(GO) test -count=1 -v -exec $(QEMU_AARCH64) -run 'GenericIsExpected' ./cbc ./aead
	GOARCH=arm64 $(GO) test -count=1 -v -tags purego -exec $(QEMU_AARCH64) -run 'GenericIsExpected' ./cbc ./aead
