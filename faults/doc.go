// Package faults runs real bgdns clusters under injected faults and checks
// that they stay safe: replicated logs that agree, acknowledged writes that
// are never lost or applied twice, a per-service history that is
// linearizable, DNS answers whose revision never goes backwards, and nodes
// that converge once the faults stop.
//
// A run starts N `bgdns serve` processes on loopback, lets K clients issue
// conditional switches and rollbacks (expect_revision, unique request ids)
// to random nodes, polls every node's DNS answers, and injects faults from a
// seeded schedule (SIGSTOP of the leader, optionally CPU and fsync load
// beside the nodes). Afterwards it heals everything, waits for convergence,
// stops the nodes and reads every node's raft.db directly.
//
// The tests in this package are slow on purpose and are not part of the
// unit test run; see docs/RELIABILITY.md for how to run them.
package faults
