package cluster

import (
	"context"
	"fmt"
	"sync"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
)

// InmemPeers connects nodes of one process to each other: it implements
// Peers by calling the node registered under a base URL directly, as its
// API would. Tests of in-process clusters use it together with raft's
// in-memory transport; a node that is not registered (stopped, cut off)
// cannot be reached, as over a network.
type InmemPeers struct {
	mu    sync.Mutex
	nodes map[string]*Node
}

var _ Peers = (*InmemPeers)(nil)

// NewInmemPeers returns an empty registry.
func NewInmemPeers() *InmemPeers { return &InmemPeers{nodes: map[string]*Node{}} }

// Register makes n reachable at base (nil: unreachable).
func (p *InmemPeers) Register(base string, n *Node) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n == nil {
		delete(p.nodes, base)
		return
	}
	p.nodes[base] = n
}

func (p *InmemPeers) node(base string) (*Node, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.nodes[base]
	if n == nil {
		return nil, fmt.Errorf("%s: connection refused", base)
	}
	return n, nil
}

// Self implements Peers.
func (p *InmemPeers) Self(_ context.Context, base string) (peer.NodeStatus, error) {
	n, err := p.node(base)
	if err != nil {
		return peer.NodeStatus{}, err
	}
	return n.Self(), nil
}

// Join implements Peers; like the API, a follower passes it on to the
// leader it knows.
func (p *InmemPeers) Join(ctx context.Context, base string, req peer.JoinRequest) error {
	n, err := p.node(base)
	if err != nil {
		return err
	}
	err = n.Join(ctx, req)
	if e, ok := err.(*control.Error); ok && e.Code == control.CodeNotLeader && e.Leader != "" && e.Leader != base {
		return p.Join(ctx, e.Leader, req)
	}
	return err
}

// Checkpoint implements Peers.
func (p *InmemPeers) Checkpoint(_ context.Context, base string, index uint64) (peer.Checkpoint, error) {
	n, err := p.node(base)
	if err != nil {
		return peer.Checkpoint{}, err
	}
	return n.Checkpoint(index), nil
}

// ReadIndex implements Peers.
func (p *InmemPeers) ReadIndex(ctx context.Context, base string) (uint64, error) {
	n, err := p.node(base)
	if err != nil {
		return 0, err
	}
	return n.ReadIndex(ctx)
}
