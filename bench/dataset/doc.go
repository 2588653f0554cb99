// Package dataset generates the benchmark's data set: one zone of N
// services (blue and green pools, a fraction of them with IPv6 too) and a
// dnsperf query file of 80% A, 10% AAAA and 10% NXDOMAIN queries. The same
// data is written as a zone file for NSD and Knot and loaded into bgdns
// through its REST API, so every server answers the same questions.
package dataset
