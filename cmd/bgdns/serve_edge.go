package main

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
)

// edgeFlags are the flags of `bgdns serve` about the node's role.
type edgeFlags struct {
	// role is peer.RoleVoter (the default) or peer.RoleEdge: a Raft
	// non-voter that serves DNS from the replicated state, forwards
	// writes and never votes or leads.
	role string
	// nsName is the node's public nameserver name: zones with "ns":"auto"
	// list it in their NS set, with the IP of --dns-addr as glue when it
	// is inside the zone.
	nsName string
}

// addEdgeFlags registers --role (BGDNS_ROLE) and --ns-name (BGDNS_NS_NAME)
// on f.
func addEdgeFlags(f *pflag.FlagSet, o *edgeFlags) {
	f.StringVar(&o.role, "role", peer.RoleVoter, "voter, or edge: a non-voting member that serves DNS from the replicated state, forwards writes and counts for wait=all and the retire watermark, but never votes or leads (needs --join)")
	f.StringVar(&o.nsName, "ns-name", "", `this node's public nameserver name: zones with "ns":"auto" list it in their NS set (with the IP of --dns-addr as glue when the name is inside the zone)`)
}

// check refuses a role that does not exist, and an edge that would start
// a cluster (a cluster's first node must be able to lead).
func (o *edgeFlags) check(bootstrap bool) error {
	if err := peer.CheckRole(o.role); err != nil {
		return errors.New("--role: " + err.Error())
	}
	if o.nsName != "" {
		if _, err := control.CanonicalName(o.nsName); err != nil {
			return fmt.Errorf("--ns-name %q: %w", o.nsName, err)
		}
	}
	if o.role == peer.RoleEdge && bootstrap {
		return errors.New("--role edge and --bootstrap exclude each other: an edge never leads, so it cannot start a cluster; bootstrap a voter and --join the edge to it")
	}
	return nil
}
