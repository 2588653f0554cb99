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
//     raw HTTP; the JSON shapes of docs/API.md.
//   - tlsharness_test.go: NewTestCA makes a CA with `bgdns tls ca create`;
//     NodeOptions.TLS / ClusterOptions.TLS give each node a certificate of
//     it (`bgdns tls cert create`) and the three --tls-* flags; the
//     harness's HTTP clients then speak https to that node, verified with
//     that CA, and Node.CLI passes BGDNS_CACERT.
//   - chromium_test.go: headless Chromium (Debian's chromium) for the
//     status page: dumpDOM loads a page once and prints its DOM;
//     startBrowser keeps one page and drives it over the DevTools
//     protocol (navigate, Runtime.evaluate, screenshots into e2e/out/,
//     which git ignores).
//
// events_test.go follows the events feed with `bgdns watch` and a raw SSE
// client across a switch made through another node and across a restart;
// ui_test.go watches the status page turn green in one page life, ask for
// a token with ACLs on, and compute answer rates from /metrics.
//
// The security tests attack real processes: rogue_test.go forges Raft
// RPCs with hashicorp/raft's own transport (they change answers of a
// plaintext cluster, and are refused at the handshake by a TLS one),
// https_test.go checks HTTPS and the refusal to listen in plaintext off
// loopback, limits_test.go floods a node with idle connections, and
// secrets_test.go looks for a token wherever it could leak.
//
// The fail-static tests (stale_test.go, with the millisecond prober and
// the recording writer of staleprobe_test.go) kill, pause and restart
// nodes while asking them a question every millisecond with miekg/dns,
// and hold every answer to the stale rules: an answer without Extended
// DNS Error 3 carries every revision acknowledged max-stale before it was
// asked, a labelled one has no TTL above --stale-ttl, a restarting node
// answers SERVFAIL (never REFUSED) or nothing older than it served.
//
// The pipeline tests drive the CLI as a release pipeline does:
// pipeline_test.go runs docs/examples/pipeline.sh against three nodes
// while the first server of its --server list is killed and restarted,
// and exitcodes_test.go produces every exit code of `bgdns help
// exit-codes` by a real failure.
//
// edge_test.go runs three voters beside edge nodes (serve --role edge):
// three edges by default, BGDNS_E2E_EDGES=10 (make test-edges) for 13
// processes.
//
// Run with `make test` or `make test-e2e` (or `go test ./e2e/`); `go test
// -short` skips them. They need dig (Debian package dnsutils).
package e2e
