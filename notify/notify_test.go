package notify

import "testing"

func TestBroadcastWakesWaitersOnce(t *testing.T) {
	var b Broadcast
	b.Broadcast() // nobody waits: nothing to do
	ch := b.Next()
	if b.Next() != ch {
		t.Fatal("two waiters before a change got different channels")
	}
	select {
	case <-ch:
		t.Fatal("closed before any change")
	default:
	}
	b.Broadcast()
	select {
	case <-ch:
	default:
		t.Fatal("not closed by the change")
	}
	next := b.Next()
	select {
	case <-next:
		t.Fatal("the channel after a change is already closed")
	default:
	}
}
