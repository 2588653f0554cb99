#!/usr/bin/env bash
# Side-by-side DNS benchmark of bgdns against NSD and Knot (`make bench`).
#
# Installs dnsperf, nsd and knot from Debian when missing, builds bgdns and
# the harness (bench/run), then runs every server as a child process on
# 127.0.0.1 with its config in a temporary directory. Servers run on CPU 1,
# dnsperf on CPU 0. Results: one table on stdout, JSON in bench/out/.
#
# Knobs (environment): BENCH_SECONDS (10) per run, BENCH_ROUNDS (3),
# BENCH_RATE (20000) fixed qps for latency/CPU, BENCH_SERVERS
# (bgdns,nsd,knot), BENCH_BIG_SERVICES (100000; 0 skips the memory and
# restart test), BENCH_SWITCH_RATE (50), BENCH_NICE (-10), BENCH_TIMEOUT
# (2400 s, the bound on the whole run). See docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$PATH:/usr/sbin:/sbin"

need=()
command -v dnsperf >/dev/null 2>&1 || need+=(dnsperf)
command -v nsd >/dev/null 2>&1 || need+=(nsd)
command -v knotd >/dev/null 2>&1 || need+=(knot)
command -v taskset >/dev/null 2>&1 || need+=(util-linux)
if ((${#need[@]})); then
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench: missing ${need[*]}; run as root or: apt-get install ${need[*]}" >&2
		exit 1
	fi
	echo "bench: installing ${need[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ "$(nproc)" -lt 2 ]; then
	echo "bench: fewer than 2 CPUs; server and dnsperf will share CPU 0" >&2
	export BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=0
fi

GO="${GO:-go}"
mkdir -p bin bench/out
if ! "$GO" build -o bin/bgdns ./cmd/bgdns; then
	echo "bench: bgdns does not build; measuring NSD and Knot only" >&2
	export BENCH_SERVERS="${BENCH_SERVERS:-nsd,knot}"
	BENCH_SERVERS="${BENCH_SERVERS//bgdns/}"
fi
"$GO" build -o bench/out/bench-run ./bench/run

# The harness itself stays off the servers' CPU, and runs in the idle
# scheduling class: on the CPU it shares with dnsperf, its own work (the
# switch storm's HTTP client above all) yields to dnsperf at once instead
# of delaying its sends and receives. Servers and dnsperf go back to the
# normal class (bench/run/proc.go).
exec timeout --signal=TERM --kill-after=30 "${BENCH_TIMEOUT:-2400}" \
	taskset -c "${BENCH_CLIENT_CPU:-0}" chrt --idle 0 bench/out/bench-run "$@"
