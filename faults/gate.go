package faults

import (
	"context"
	"sync"
)

// Gate holds the clients back while it is closed. The nemesis closes it
// to let the leader go idle (everything it wrote replicated) just before
// pausing it, and opens it once the leader is paused, so that writes pile
// up at the paused leader and reach it all at once when it resumes.
type Gate struct {
	mu   sync.Mutex
	open chan struct{} // closed while the gate is open
}

func NewGate() *Gate {
	g := &Gate{open: make(chan struct{})}
	close(g.open)
	return g
}

// Wait returns once the gate is open or ctx is done.
func (g *Gate) Wait(ctx context.Context) {
	if g == nil {
		return
	}
	g.mu.Lock()
	ch := g.open
	g.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// Close holds clients back from their next write.
func (g *Gate) Close() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
		g.open = make(chan struct{})
	default:
	}
}

// Open lets them go again.
func (g *Gate) Open() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}
