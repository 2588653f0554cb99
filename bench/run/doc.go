// Command run is the side-by-side benchmark behind `make bench`: it starts
// bgdns, NSD and Knot as child processes on loopback ports, loads the same
// generated data set into each, and drives them with dnsperf in alternating
// rounds (server pinned to CPU 1, dnsperf to CPU 0). It reports maximum qps,
// latency percentiles at a fixed rate, server CPU per query, lost queries,
// bgdns's DNS p99 under a switch storm, and memory and restart time with a
// large number of services. Results are printed as one table and written as
// JSON.
package main
