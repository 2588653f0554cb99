// Package e2e holds the end-to-end tests of bgdns: they build the real
// binary, run real processes on loopback ports, drive them through the CLI
// and the REST API, and check every DNS answer with dig.
//
// The harness is shared by every end-to-end test:
//
//   - harness_test.go: TestMain builds cmd/bgdns once (with -race when the
//     tests run with it; a race report in a node's log fails the test),
//     free ports (TCP, and TCP+UDP for DNS), eventually/poll with deadlines.
//   - node_test.go: NewNode/StartNode run `bgdns serve` with its settings as
//     flags, BGDNS_* env or a YAML file; Start, WaitReady, Kill9, Stop,
//     Pause/Resume (SIGSTOP/SIGCONT), Restart/RestartNoWait (same data dir
//     and ports, no --bootstrap or --join); logs are printed on failure.
//   - clusterharness_test.go: StartCluster(t, n, ...) bootstraps n1 and joins
//     the others; Leader, Followers, RestartAll, EveryNode.
//   - dig_test.go: Dig/DigE shell out to dig and parse status, flags and
//     sections; assert_test.go has the answer checks used by the tests.
//   - client_test.go: CLI/RunCLI/CLIJSON run the client; Call/Expect speak
//     raw HTTP; the JSON shapes of SPEC §3.
//
// Run with `make test` or `make test-e2e` (or `go test ./e2e/`); `go test
// -short` skips them. They need dig (Debian package dnsutils).
package e2e
