package cluster

import "sync"

// changes tells waiters that the applied state changed, without polling
// and without ever blocking Apply: a waiter takes the current channel
// before it reads the state, and the next change closes that channel.
type changes struct {
	mu sync.Mutex
	ch chan struct{}
}

// next returns a channel closed at the next change.
func (c *changes) next() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

// broadcast wakes every waiter (nothing to do when none waits).
func (c *changes) broadcast() {
	c.mu.Lock()
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
	c.mu.Unlock()
}

// Changed returns a channel closed when this node next applies a change
// to its state (a command that changed it, or a snapshot restored). Take
// it before reading State, so that a change in between is not missed.
func (n *Node) Changed() <-chan struct{} { return n.fsm.changes.next() }
