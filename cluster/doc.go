// Package cluster runs the Raft node behind a bgdns nameserver.
//
// It owns the hashicorp/raft instance, its bbolt log and stable stores, the
// file snapshot store and the transport; the FSM that applies control
// commands to the immutable control.State; the replicated member metadata
// (each node's API and DNS address); membership changes (join, remove);
// leader hand-off on shutdown; and readiness, i.e. whether this node may
// answer DNS for our zones (SPEC §5: heard from a leader within MaxStale and
// caught up with the log it had at boot).
//
// Log entries are tagged by their first byte (see entry.go), so package
// control never sees Raft concepts: a control command is applied by
// control.State.Apply, a member metadata entry by this package.
//
// See DESIGN.md in this directory for the readiness rules.
package cluster
