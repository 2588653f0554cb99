package cluster

import (
	"context"
	"strings"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
	"github.com/hashicorp/raft"
)

// Join adds a node to the configuration (a voter, or a non-voter when the
// request asks for role edge) and records its API and DNS addresses in
// the replicated member metadata. Joining again with the same id, address
// and role only refreshes the metadata; joining again with the other role
// is refused (remove the member first): an edge restarted without its
// role must not become a voter, nor a voter silently lose its vote.
func (n *Node) Join(ctx context.Context, req peer.JoinRequest) error {
	if err := req.Validate(); err != nil {
		return err
	}
	if req.HTTPAddr != "" && !strings.Contains(req.HTTPAddr, "://") {
		// host:port: the members call it as a URL (forwarding, status,
		// confirmations), so record it as one
		req.HTTPAddr = "http://" + req.HTTPAddr
	}
	if err := n.checkLeader(); err != nil {
		return err
	}
	addr := raft.ServerAddress(req.RaftAddr)
	edge := req.Edge()
	already := false
	for _, s := range n.configuration() {
		switch {
		case string(s.ID) == req.ID && (s.Suffrage == raft.Voter) == edge:
			return control.Conflict("member %s is a %s; remove it before it joins as a %s",
				req.ID, peer.RoleOf(s.Suffrage == raft.Voter), req.MemberRole())
		case string(s.ID) == req.ID && s.Address == addr:
			already = true
		case string(s.ID) != req.ID && s.Address == addr:
			return control.Conflict("raft address %s is already used by member %s", addr, s.ID)
		}
	}
	if !already {
		var f raft.IndexFuture
		if edge {
			f = n.raft.AddNonvoter(raft.ServerID(req.ID), addr, 0, timeoutOf(ctx))
		} else {
			f = n.raft.AddVoter(raft.ServerID(req.ID), addr, 0, timeoutOf(ctx))
		}
		if err := waitFuture(ctx, f); err != nil {
			return n.raftError(err)
		}
		n.log.Info("member added", "id", req.ID, "raft_addr", addr, "role", req.MemberRole())
	}
	m := Member{ID: req.ID, HTTPAddr: req.HTTPAddr, DNSAddr: req.DNSAddr}
	if req.NSName != "" {
		m.NSName, _ = control.CanonicalName(req.NSName) // Validate checked it
	}
	if have, ok := n.fsm.Members()[req.ID]; ok && have == m {
		return nil
	}
	return n.proposeMember(ctx, memberOp{Op: memberSet, Member: m})
}

// Remove takes a node out of the configuration and forgets its metadata.
// The removed node stops serving once it is out of its own configuration,
// or, when the removal never reached it, once a majority of the voters
// tell it they no longer list it (removed.go).
func (n *Node) Remove(ctx context.Context, id string) error {
	if id == "" {
		return control.BadRequest("member id is required")
	}
	if err := n.checkLeader(); err != nil {
		return err
	}
	inConf := false
	for _, s := range n.configuration() {
		if string(s.ID) == id {
			inConf = true
		}
	}
	_, inMeta := n.fsm.Members()[id]
	if !inConf && !inMeta {
		return control.NotFound("member %s not found", id)
	}
	// Metadata first: once this leader removes itself it cannot commit.
	if id == n.cfg.NodeID {
		n.selfRemoved.Store(true)
	}
	if inMeta {
		if err := n.proposeMember(ctx, memberOp{Op: memberDelete, Member: Member{ID: id}}); err != nil {
			return err
		}
	}
	if inConf {
		if err := waitFuture(ctx, n.raft.RemoveServer(raft.ServerID(id), 0, timeoutOf(ctx))); err != nil {
			return n.raftError(err)
		}
		n.log.Info("member removed", "id", id)
	}
	return nil
}

func timeoutOf(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 {
			return d
		}
		return time.Millisecond
	}
	return DefaultApplyTimeout
}

func waitFuture(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
