package main

import (
	"errors"

	"github.com/spf13/pflag"

	"github.com/bgdns/bgdns/peer"
)

// edgeFlags are the flags of `bgdns serve` about the node's role.
type edgeFlags struct {
	// role is peer.RoleVoter (the default) or peer.RoleEdge: a Raft
	// non-voter that serves DNS from the replicated state, forwards
	// writes and never votes or leads.
	role string
}

// addEdgeFlags registers --role (BGDNS_ROLE) on f.
func addEdgeFlags(f *pflag.FlagSet, o *edgeFlags) {
	f.StringVar(&o.role, "role", peer.RoleVoter, "voter, or edge: a non-voting member that serves DNS from the replicated state, forwards writes and counts for wait=all and the retire watermark, but never votes or leads (needs --join)")
}

// check refuses a role that does not exist, and an edge that would start
// a cluster (a cluster's first node must be able to lead).
func (o *edgeFlags) check(bootstrap bool) error {
	if err := peer.CheckRole(o.role); err != nil {
		return errors.New("--role: " + err.Error())
	}
	if o.role == peer.RoleEdge && bootstrap {
		return errors.New("--role edge and --bootstrap exclude each other: an edge never leads, so it cannot start a cluster; bootstrap a voter and --join the edge to it")
	}
	return nil
}
