package peer

import (
	"context"
	"fmt"
	"net/url"
)

// Self reads the status a member reports about itself.
func (c *Client) Self(ctx context.Context, base string) (NodeStatus, error) {
	var st NodeStatus
	err := c.getJSON(ctx, base, SelfPath, &st)
	return st, err
}

// Checkpoint is a node's running hash of its applied log at one index,
// and at the last index it applied.
type Checkpoint struct {
	Index uint64 `json:"index"`
	Hash  string `json:"hash,omitempty"`
	// Known is false when the node no longer (or not yet) holds a hash for
	// Index.
	Known bool `json:"known"`
	// HeadIndex and HeadHash are the node's latest checkpoint (HeadHash is
	// empty when its chain is unknown, after an old-format snapshot).
	HeadIndex uint64 `json:"head_index"`
	HeadHash  string `json:"head_hash,omitempty"`
	// Members are the ids of the servers, voters and edges, in the
	// answering node's Raft configuration (a node that missed its own
	// removal learns it from them). Empty from older releases.
	Members []string `json:"members,omitempty"`
}

// Checkpoint asks a member for its hash at index.
func (c *Client) Checkpoint(ctx context.Context, base string, index uint64) (Checkpoint, error) {
	var cp Checkpoint
	err := c.getJSON(ctx, base, CheckpointPath+"?index="+url.QueryEscape(fmt.Sprint(index)), &cp)
	return cp, err
}

// ReadIndex asks the leader at base for its commit index, confirmed with
// a quorum (a node then knows it is current once it applied that much).
func (c *Client) ReadIndex(ctx context.Context, base string) (uint64, error) {
	var ri struct {
		CommitIndex uint64 `json:"commit_index"`
	}
	err := c.getJSON(ctx, base, ReadIndexPath, &ri)
	return ri.CommitIndex, err
}
