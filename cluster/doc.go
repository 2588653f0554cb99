// Package cluster runs the Raft node behind a bgdns nameserver.
//
// It owns the hashicorp/raft instance, its bbolt log and stable stores, the
// file snapshot store and the transport; the FSM that applies control
// commands to the immutable control.State; the replicated member metadata
// (each node's API and DNS address); membership changes (join, remove);
// leader hand-off on shutdown; readiness, i.e. whether this node may
// answer DNS for our zones and whether its answers are current or stale
// (readiness.go, confirm.go); and the integrity of what it serves:
// checksummed entries and a store check at start (entry.go, integrity.go),
// the served-index watermark (watermark.go), divergence detection against
// the other voters (chain.go, divergence.go), and the retire watermark of
// switches (retire.go). Node.Changed (changes.go) lets readers such as
// the events feed wait for the next applied state: the FSM closes a
// channel after storing it, without ever blocking Apply.
//
// Log entries are tagged by their first byte (see entry.go), so package
// control never sees Raft concepts: a control command is applied by
// control.State.Apply, a member metadata entry by this package.
//
// See DESIGN.md in this directory for the rules and the reasons.
package cluster
