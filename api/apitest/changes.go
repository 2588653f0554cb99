package apitest

import "sync"

// changes wakes the readers waiting for the next state, as
// cluster.Node's does.
type changes struct {
	mu sync.Mutex
	ch chan struct{}
}

func (c *changes) next() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

func (c *changes) broadcast() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
}

// Changed implements api.ChangeNotifier: the channel closes when a
// proposal is next applied.
func (b *Backend) Changed() <-chan struct{} { return b.changes.next() }
