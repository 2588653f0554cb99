package api

import (
	"context"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
)

// Backend is what the API needs from the node it runs on. cluster.Node
// implements it.
type Backend interface {
	// State is this node's current applied state (lock-free read).
	State() *control.State
	// Propose commits cmd through Raft and returns Apply's result. On a
	// follower it fails with a *control.Error of CodeNotLeader naming the
	// leader's API address; with no leader, CodeNoLeader.
	Propose(ctx context.Context, cmd control.Command) (control.Result, error)
	// WaitApplied blocks until every member, voters and edges, has applied
	// index (or ctx ends) and returns each member's applied index as last
	// seen.
	WaitApplied(ctx context.Context, index uint64) ([]peer.NodeStatus, error)
	// Status describes the cluster: leader, members, applied indexes.
	Status(ctx context.Context) peer.ClusterStatus
	// Ready is nil when this node is caught up and serving current
	// answers; otherwise it says why not.
	Ready() error
	// Serving reports whether the node answers from its state at all
	// (current or stale); Stale whether that state could not be
	// confirmed as current (the node lost its leader).
	Serving() bool
	Stale() bool
	// Confirm makes sure, with the leader, that this node has applied
	// everything committed so far (CodeNoLeader when it cannot).
	Confirm(ctx context.Context) error
	// RetireWaiting names the members not (yet) seen applying index: the
	// nodes a switch at index waits for before its colour can retire.
	RetireWaiting(ctx context.Context, index uint64) []string
	// ReadIndex is the leader's commit index, confirmed with a quorum
	// (CodeNotLeader on a follower); followers call it to confirm.
	ReadIndex(ctx context.Context) (uint64, error)
	// Join and Remove change membership (leader only; CodeNotLeader otherwise).
	Join(ctx context.Context, req peer.JoinRequest) error
	Remove(ctx context.Context, id string) error
	// Applied is the last Raft index applied on this node.
	Applied() uint64
	// Self describes this node only (id, addresses, applied index, last
	// contact with the leader, serving); GET /v1/cluster/self returns it and
	// other nodes read it to learn this node's applied index.
	Self() peer.NodeStatus
	// Checkpoint is this node's hash of its applied log at index and at
	// its last applied entry; other members compare it with theirs to
	// find a diverged log.
	Checkpoint(index uint64) peer.Checkpoint
}
