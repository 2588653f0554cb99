// Package notify wakes goroutines waiting for the next change of
// something, without polling and without ever blocking the one that
// changes it: a waiter takes the current channel (Next) before it reads
// the thing, and the next Broadcast closes that channel.
package notify

import "sync"

// Broadcast is a channel closed at the next change. The zero value is
// ready to use.
type Broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

// Next returns a channel closed at the next Broadcast.
func (b *Broadcast) Next() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// Broadcast wakes every waiter (nothing to do when none waits).
func (b *Broadcast) Broadcast() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}
