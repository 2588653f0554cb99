# bgdns — build, run, test, benchmark.
GO        ?= go
BIN       := bin/bgdns
PKGS      := ./...
FUZZTIME  ?= 20s

.PHONY: all build run test test-deps test-unit test-e2e test-e2e-race test-edges test-upgrade test-faults test-faults-short test-faults-net faults-net-runs test-interop fuzz bench bench-switch vet lint clean

all: build

# The version and commit stamped into the binary (bgdns version, /v1/version).
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS   := -X github.com/bgdns/bgdns/buildinfo.version=$(VERSION) -X github.com/bgdns/bgdns/buildinfo.commit=$(COMMIT)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/bgdns

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

# Every package but e2e/ and faults/ (real processes, run on their own).
UNIT_PKGS = $$($(GO) list $(PKGS) | grep -v -e '/e2e$$' -e '/faults$$')

# The default test run: unit and in-process cluster tests with the race
# detector, then the end-to-end tests on their own, so that their real
# processes (timing: heartbeats, max-stale) do not compete with other
# packages for the CPUs, then a short fault run (see docs/RELIABILITY.md).
# The end-to-end tests run the plain binary here; test-e2e-race runs them
# again with race-detector builds of the binary and the harness (several
# times slower).
test: build vet test-deps
	$(GO) test -race -count=1 -timeout 12m $(UNIT_PKGS)
	$(GO) test -count=1 -timeout 12m ./e2e/
	$(MAKE) test-faults-short

# The tools the tests run against: installed when run as root, otherwise
# a stop naming the command that installs them.
test-deps:
	@bash scripts/ensure-test-deps.sh

# Everything but the end-to-end tests.
test-unit: vet
	$(GO) test -race -count=1 -timeout 10m $(UNIT_PKGS)

# Only the end-to-end tests: the real binary, dig, kill -9 and restart.
test-e2e: build test-deps
	$(GO) test -count=1 -timeout 12m ./e2e/

# The end-to-end tests with race-detector builds of bgdns and the harness.
test-e2e-race: build test-deps
	$(GO) test -race -count=1 -timeout 30m ./e2e/

# The edge-node end-to-end test at full size: 3 voters and 10 edges (13
# processes; `make test` runs it with 3 edges).
test-edges: build test-deps
	BGDNS_E2E_EDGES=10 $(GO) test -count=1 -timeout 5m -run 'TestEdgeNodes' ./e2e/

# A rolling upgrade from the previous release (built from its commit in
# this repository, so it needs a clone with history) to this build, with
# writes flowing; see docs/OPERATIONS.md. UPGRADE_FROM names another commit
# or tag.
test-upgrade: build test-deps
	BGDNS_UPGRADE_FROM=$(UPGRADE_FROM) $(GO) test -count=1 -timeout 10m -tags upgrade -run 'TestRollingUpgrade' ./e2e/

# Fault runs (docs/RELIABILITY.md): real clusters under faults while writes
# flow (the leader paused with SIGSTOP; kill -9 and restart; a join;
# partitions and packet loss with iptables; a node removed), then checks of
# the raft logs, the histories, linearizability, DNS and the stale policy.
# Built without -race; the network runs need root and iptables (make
# test-deps installs it). The short run takes about three minutes: three
# paused-leader seeds, one partition seed with each stale policy and one
# removal, 15 s each. test-faults-net is the network part of the long run
# (10 seeds x 3 nodes and 5 seeds x 5 nodes of 2 minutes, two with
# --stale-policy servfail, two removals, three runs cutting only the raft
# or only the API traffic of a node: about 50 minutes); test-faults runs
# it after the paused-leader, kill and join runs (about 40 minutes more).
# The variables below choose the seeds and the length of each run
# (make test-faults FAULTS_LONG_SEEDS=21-40); failed runs leave their
# artefacts in faults/out/, and every target ends with the figures of each
# run and a summary per test (switches, faults, violations, p99 convergence).
FAULTS_SHORT_SEEDS    ?= 1,2,5
FAULTS_SHORT_NET_SEED ?= 1
FAULTS_SHORT_DURATION ?= 15s
FAULTS_LONG_SEEDS     ?= 1-20
FAULTS_LONG5_SEEDS    ?= 1-6
FAULTS_LONG_DURATION  ?= 45s
FAULTS_NET_SEEDS      ?= 1-10
FAULTS_NET5_SEEDS     ?= 1-5
FAULTS_NET_DURATION   ?= 120s

# Each run appends its figures to faults/out/figures.txt, printed at the end.
FAULTS_FIGURES = faults/out/figures.txt
FAULTS_SUMMARY = sh faults/summarize.sh $(FAULTS_FIGURES)

test-faults-short: test-deps
	@rm -f $(FAULTS_FIGURES)
	$(GO) test -count=1 -timeout 8m ./faults/ -run 'TestPausedLeader3|TestParseSeeds|TestCheck|TestCount|TestLinearizabilityModel|TestFirewall|TestObserver' -args -seeds $(FAULTS_SHORT_SEEDS) -duration $(FAULTS_SHORT_DURATION); \
		s1=$$?; \
	$(GO) test -count=1 -timeout 8m ./faults/ -run 'TestPartitions3|TestPartitionsServfail3|TestRemoveUnderWrites' -args -seeds $(FAULTS_SHORT_NET_SEED) -duration $(FAULTS_SHORT_DURATION); \
		s2=$$?; \
	$(FAULTS_SUMMARY); [ $$s1 -eq 0 ] && [ $$s2 -eq 0 ]

test-faults-net: test-deps
	@rm -f $(FAULTS_FIGURES)
	@$(MAKE) --no-print-directory faults-net-runs; status=$$?; $(FAULTS_SUMMARY); exit $$status

faults-net-runs:
	$(GO) test -count=1 -timeout 40m ./faults/ -run 'TestPartitions3$$' -args -seeds $(FAULTS_NET_SEEDS) -duration $(FAULTS_NET_DURATION); \
		s1=$$?; \
	$(GO) test -count=1 -timeout 25m ./faults/ -run 'TestPartitions5$$' -args -seeds $(FAULTS_NET5_SEEDS) -duration $(FAULTS_NET_DURATION); \
		s2=$$?; \
	$(GO) test -count=1 -timeout 15m ./faults/ -run 'TestPartitionsServfail3$$' -args -seeds 1-2 -duration $(FAULTS_NET_DURATION); \
		s3=$$?; \
	$(GO) test -count=1 -timeout 10m ./faults/ -run 'TestRemoveUnderWrites$$' -args -seeds 1-2 -duration 60s; \
		s4=$$?; \
	$(GO) test -count=1 -timeout 10m ./faults/ -run 'TestChannelCuts3$$' -args -seeds 1-2 -duration 60s; \
		s5=$$?; \
	$(GO) test -count=1 -timeout 10m ./faults/ -run 'TestChannelCuts3$$' -args -seeds 3 -duration 60s -stale-policy servfail; \
		s6=$$?; \
	[ $$s1 -eq 0 ] && [ $$s2 -eq 0 ] && [ $$s3 -eq 0 ] && [ $$s4 -eq 0 ] && [ $$s5 -eq 0 ] && [ $$s6 -eq 0 ]

test-faults: test-deps
	@rm -f $(FAULTS_FIGURES)
	$(GO) test -count=1 -timeout 60m ./faults/ -run 'TestPausedLeader3' -args -seeds $(FAULTS_LONG_SEEDS) -duration $(FAULTS_LONG_DURATION) -load; \
		s1=$$?; \
	$(GO) test -count=1 -timeout 30m ./faults/ -run 'TestPausedLeader5' -args -seeds $(FAULTS_LONG5_SEEDS) -duration $(FAULTS_LONG_DURATION) -load; \
		s2=$$?; \
	$(GO) test -count=1 -timeout 20m ./faults/ -run 'TestKillRestart3|TestJoinUnderWrites' -args -seeds $(FAULTS_LONG5_SEEDS) -duration 30s; \
		s3=$$?; \
	$(MAKE) --no-print-directory faults-net-runs; \
		s4=$$?; \
	$(FAULTS_SUMMARY); [ $$s1 -eq 0 ] && [ $$s2 -eq 0 ] && [ $$s3 -eq 0 ] && [ $$s4 -eq 0 ]

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

# Switch latency on a loopback cluster with fsync on: 3 voters and
# BENCH_EDGES edge nodes (default 10: 13 nodes answering DNS).
BENCH_EDGES ?= 10
bench-switch: build
	$(GO) run ./cmd/bench-switch -edges $(BENCH_EDGES)

# Release artefacts in dist/ (docs/PACKAGING.md): static binaries for
# DIST_ARCHES with the version stamped, a Debian package per architecture
# and SHA256SUMS.
DIST_ARCHES ?= amd64 arm64

.PHONY: dist test-dist
dist:
	GO="$(GO)" VERSION="$(VERSION)" COMMIT="$(COMMIT)" LDFLAGS="$(LDFLAGS)" DIST_ARCHES="$(DIST_ARCHES)" bash scripts/dist.sh

# Builds the amd64 package, installs it into this machine with dpkg -i,
# checks it (files, modes, systemd-analyze verify, bgdns version) and purges
# it. Needs root; CI runs it after make test.
test-dist:
	$(MAKE) dist DIST_ARCHES=amd64 VERSION="$(VERSION)" COMMIT="$(COMMIT)"
	VERSION="$(VERSION)" bash scripts/test-dist.sh

clean:
	rm -rf bin bench/out faults/out dist
