// Package e2e holds the end-to-end tests of bgdns: they build the real
// binary, run real processes on loopback ports, drive them through the CLI
// and the REST API, and check every DNS answer with dig.
//
// The harness (harness_test.go, node_test.go, dig_test.go, client_test.go)
// is meant to be reused by every end-to-end test: start one node or a
// cluster of N, kill -9 a process, restart it on the same data directory,
// query it with dig and drive it with the CLI or raw HTTP.
//
// Run with `make test` (or `go test ./e2e/`); `go test -short` skips them.
// They need dig (Debian package dnsutils).
package e2e
