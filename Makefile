# bgdns — build, run, test, benchmark.
GO        ?= go
BIN       := bin/bgdns
PKGS      := ./...
FUZZTIME  ?= 20s

.PHONY: all build run test test-unit test-e2e test-interop fuzz bench bench-switch vet lint clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/bgdns

# A local 3-node cluster on loopback with a demo zone and service.
run: build
	$(BIN) dev

vet:
	$(GO) vet $(PKGS)

# go vet, then staticcheck at a pinned version (2026.2.2, which knows Go
# 1.26), fetched through the Go module proxy and built into the module
# cache by `go run` on first use: nothing to install beforehand.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: vet
	$(GO) run $(STATICCHECK) $(PKGS)

# Every package but e2e/.
UNIT_PKGS = $$($(GO) list $(PKGS) | grep -v '/e2e$$')

# The default test run: unit and in-process cluster tests, then the
# end-to-end tests on their own, so that their real processes (timing:
# heartbeats, max-stale) do not compete with other packages for the CPUs.
test: build vet
	$(GO) test -race -count=1 -timeout 12m $(UNIT_PKGS)
	$(GO) test -race -count=1 -timeout 12m ./e2e/

# Everything but the end-to-end tests.
test-unit: vet
	$(GO) test -race -count=1 -timeout 10m $(UNIT_PKGS)

# Only the end-to-end tests: the real binary, dig, kill -9 and restart.
test-e2e: build
	$(GO) test -race -count=1 -timeout 10m ./e2e/

# Real peers (NSD, Knot, unbound, dig) against bgdns; needs scripts/install-test-deps.sh.
test-interop: build
	$(GO) test -count=1 -timeout 10m -tags interop ./dnsserver/interop/...

# Bounded fuzzing of the DNS handler and of the UDP fast path against it,
# FUZZTIME each (go test fuzzes one target at a time).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzHandler$$' -fuzztime $(FUZZTIME) ./dnsserver/
	$(GO) test -run '^$$' -fuzz '^FuzzFastPath$$' -fuzztime $(FUZZTIME) ./dnsserver/

# Side-by-side benchmark against NSD and Knot (BENCH_SECONDS, default 10).
bench: build
	bash scripts/bench.sh

# Switch latency on a 3-node loopback cluster with fsync on.
bench-switch: build
	$(GO) run ./cmd/bench-switch

clean:
	rm -rf bin bench/out
