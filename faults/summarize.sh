#!/bin/sh
# Prints the figure lines of the fault runs (faults/out/figures.txt by
# default), then per test: runs, switches (acknowledged writes), faults,
# violations, and the convergence time after the final heal (median, p99
# by nearest rank, max; runs that did not converge are counted apart).
f=${1:-faults/out/figures.txt}
[ -f "$f" ] || exit 0
cat "$f"
echo
awk '
{
	test = $1; sub(/\/.*/, "", test)
	for (i = 2; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == "acked") sw[test] += kv[2]
		if (kv[1] == "faults") fl[test] += kv[2]
		if (kv[1] == "violations") vi[test] += kv[2]
		if (kv[1] == "conv_ms") { if (kv[2] < 0) nc[test]++; else conv[test, ++nconv[test]] = kv[2] + 0 }
	}
	runs[test]++
}
END {
	for (t in runs) {
		n = nconv[t]
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (conv[t, j] < conv[t, i]) { x = conv[t, i]; conv[t, i] = conv[t, j]; conv[t, j] = x }
		p99 = "-"; med = "-"; mx = "-"
		if (n > 0) { k = int(0.99 * n); if (k < 0.99 * n) k++; p99 = conv[t, k] "ms"; med = conv[t, int((n + 1) / 2)] "ms"; mx = conv[t, n] "ms" }
		printf "SUMMARY %s runs=%d switches=%d faults=%d violations=%d convergence median=%s p99=%s max=%s not_converged=%d\n", t, runs[t], sw[t], fl[t], vi[t], med, p99, mx, nc[t] + 0
	}
}' "$f" | sort
