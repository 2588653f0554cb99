package cluster

import (
	"bytes"
	"testing"

	"github.com/bgdns/bgdns/control"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// A waiter's channel closes when Apply changes the state or a snapshot is
// restored, and not for an entry that changes nothing.
func TestFSMWakesWaitersOnChange(t *testing.T) {
	f := newFSM(nil, testLogger())
	ch := f.changes.Next()
	if f.changes.Next() != ch {
		t.Fatal("two waiters before a change got different channels")
	}
	f.Apply(commandLog(t, 3, zonePut()))
	if !closed(ch) {
		t.Fatal("not woken by a change")
	}
	ch = f.changes.Next()
	if closed(ch) {
		t.Fatal("a fresh channel is closed already")
	}
	bad := lifecycle(control.OpSwitch) // no such service: changes nothing
	f.Apply(commandLog(t, 4, bad))
	if closed(ch) {
		t.Fatal("woken by an entry that changed nothing")
	}
	f.Apply(commandLog(t, 5, servicePut()))
	if !closed(ch) {
		t.Fatal("not woken by the service put")
	}

	snap, _ := f.Snapshot()
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	g := newFSM(nil, testLogger())
	ch = g.changes.Next()
	if err := g.Restore(nopCloser{bytes.NewReader(sink.Bytes())}); err != nil {
		t.Fatal(err)
	}
	if !closed(ch) {
		t.Fatal("not woken by a restore")
	}
}
