# Other architectures: the unit, vector and differential tests of the
# primitives and the envelope, built for arm64 and s390x (big-endian) and run
# under qemu-user, and vetted and built for 386. See docs/implementations.md
# for what each GOARCH dispatches to.
#
#   make cross            arm64, s390x and 386 (CI)
#   make cross-arm64      one of them (likewise cross-s390x, cross-386)
#   make cross-demo       the arm64 dispatch under qemu-aarch64: the impl lists
#                         of cbc and gcm and what automatic dispatch takes,
#                         default and purego
#
# qemu-user-static comes from Debian (apt-get, with sudo when not root) the
# first time it is missing. Under qemu-user the CPU is qemu's "max" model:
# arm64 has the AES and PMULL instructions, so cbc and gcm take the standard
# library's path there (TestGenericIsExpected and TestGCMGenericIsExpected
# fail otherwise); s390x has no CPACF AES under qemu, so they take the
# generic one.
#
# 386 binaries run natively only on a kernel with IA32 emulation, which the
# 2-core VMs this project runs on lack ("exec format error"), and qemu-i386
# does not run Go's 386 runtime reliably ("bad g in signal handler"). So
# cross-386 vets CROSS_386_PKGS for 386 and builds their test binaries
# (which catches what does not compile or vet for a 32-bit target, such as
# an int constant that overflows), runs them where the kernel can execute
# them, and says plainly when it cannot. The packages that need etcd (store,
# scan, rotate, cmd/atrest) are left out: building them for 386 takes
# minutes and proves nothing more unless they can run.
#
# The long differential tests run with -short (every length to a few hundred
# bytes rather than 4096) to keep CI within its budget.

CROSS_PKGS      ?= ./cbc ./aead ./aead/internal/... ./envelope ./envelope/kmsv2 ./internal/aesni ./internal/alias \
                   ./internal/cpu ./internal/ctaes ./internal/impl
CROSS_386_PKGS  ?= $(CROSS_PKGS) ./cmd/atrest/internal/benchreport ./testkit/kubepeer
CROSS_TESTFLAGS ?= -short -count=1
QEMU_AARCH64    ?= qemu-aarch64-static
QEMU_S390X      ?= qemu-s390x-static

TEST_EXTRA += cross

.PHONY: cross cross-arm64 cross-s390x cross-386 cross-demo qemu-user

cross: cross-386 cross-arm64 cross-s390x ## vet and test the primitives for arm64 and s390x (qemu-user); vet and build them for 386

qemu-user: ## install Debian's qemu-user-static if qemu-aarch64-static or qemu-s390x-static is missing
	@if ! command -v $(QEMU_AARCH64) >/dev/null || ! command -v $(QEMU_S390X) >/dev/null; then \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		echo "installing qemu-user-static"; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq qemu-user-static >/dev/null; \
	fi

cross-arm64: qemu-user ## vet and test for arm64 under qemu-aarch64, default and purego
	GOARCH=arm64 $(GO) vet $(CROSS_PKGS)
	GOARCH=arm64 $(GO) test $(CROSS_TESTFLAGS) -exec $(QEMU_AARCH64) $(CROSS_PKGS)
	GOARCH=arm64 $(GO) test $(CROSS_TESTFLAGS) -tags purego -exec $(QEMU_AARCH64) ./cbc ./aead

cross-s390x: qemu-user ## vet and test for s390x (big-endian) under qemu-s390x
	GOARCH=s390x $(GO) vet $(CROSS_PKGS)
	GOARCH=s390x $(GO) test $(CROSS_TESTFLAGS) -exec $(QEMU_S390X) $(CROSS_PKGS)

cross-386: ## vet the primitives for 386, build their test binaries, run them where the kernel can
	GOARCH=386 $(GO) vet $(CROSS_386_PKGS)
	GOARCH=386 $(GO) vet -tags purego ./cbc ./aead/... ./internal/...
	@set -e; dir=$(BIN)/cross-386; rm -rf $$dir; mkdir -p $$dir; \
	printf 'package main\nfunc main() {}\n' > $$dir/probe.go; \
	GOARCH=386 $(GO) build -o $$dir/probe $$dir/probe.go; \
	if $$dir/probe 2>/dev/null; then \
		echo "GOARCH=386 go test $(CROSS_386_PKGS)"; \
		GOARCH=386 $(GO) test $(CROSS_TESTFLAGS) $(CROSS_386_PKGS); \
	else \
		echo "GOARCH=386 go test -c $(CROSS_386_PKGS)"; \
		GOARCH=386 $(GO) test -c -o $$dir/ $(CROSS_386_PKGS); \
		echo "cross-386: vetted, and test binaries built in $$dir; NOT RUN: this kernel cannot execute 386 binaries (no IA32 emulation)"; \
	fi

cross-demo: qemu-user ## show the arm64 dispatch of cbc and gcm under qemu-aarch64, default and purego
	GOARCH=arm64 $(GO) test -count=1 -v -exec $(QEMU_AARCH64) -run 'GenericIsExpected' ./cbc ./aead
	GOARCH=arm64 $(GO) test -count=1 -v -tags purego -exec $(QEMU_AARCH64) -run 'GenericIsExpected' ./cbc ./aead
