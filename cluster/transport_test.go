package cluster

import (
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// heartbeatSpy is an in-memory transport that records whether raft
// installed a heartbeat handler on it.
type heartbeatSpy struct {
	*raft.InmemTransport
	installed chan struct{}
}

func (s *heartbeatSpy) SetHeartbeatHandler(cb func(raft.RPC)) {
	if cb != nil {
		close(s.installed)
	}
	s.InmemTransport.SetHeartbeatHandler(cb)
}

// TestOpenNeverInstallsHeartbeatFastPath: raft calls SetHeartbeatHandler
// on the transport it is given; the node must never let that reach the
// real transport.
func TestOpenNeverInstallsHeartbeatFastPath(t *testing.T) {
	_, tr := raft.NewInmemTransport("")
	spy := &heartbeatSpy{InmemTransport: tr, installed: make(chan struct{})}
	store := raft.NewInmemStore()
	n, err := Open(Config{
		NodeID: "a1", DataDir: t.TempDir(), Bootstrap: true, Logger: testLogger(),
		Transport: spy, LogStore: store, StableStore: store,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(t.Context())
	select {
	case <-spy.installed:
		t.Fatal("raft installed its heartbeat fast path on the node's transport")
	default:
	}
	// The spy itself must be able to see an install (the test can fail).
	rc := raft.DefaultConfig()
	rc.LocalID = "a2"
	rc.Logger = newHCLogger(testLogger(), "raft")
	raw, err := raft.NewRaft(rc, newFSM(nil, testLogger()), raft.NewInmemStore(), raft.NewInmemStore(),
		raft.NewInmemSnapshotStore(), &heartbeatSpy{InmemTransport: tr, installed: spy.installed})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Shutdown()
	select {
	case <-spy.installed:
	case <-time.After(5 * time.Second):
		t.Fatal("spy did not see raft install a heartbeat handler on an unwrapped transport")
	}
}

// TestHeartbeatReachesMainLoop sends a heartbeat-shaped AppendEntries over
// a real TCP NetworkTransport: through the wrapper it must arrive on
// Consumer() (raft's main loop), never on a fast-path handler.
func TestHeartbeatReachesMainLoop(t *testing.T) {
	recv, err := raft.NewTCPTransport("127.0.0.1:0", nil, 2, time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	wrapped := wrapTransport(recv)
	fast := make(chan raft.RPC, 1)
	wrapped.SetHeartbeatHandler(func(rpc raft.RPC) { fast <- rpc })

	send, err := raft.NewTCPTransport("127.0.0.1:0", nil, 2, time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	hb := &raft.AppendEntriesRequest{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("b1"), Addr: []byte(send.LocalAddr())},
		Term:      7,
	}
	done := make(chan error, 1)
	go func() {
		var resp raft.AppendEntriesResponse
		done <- send.AppendEntries("a1", wrapped.LocalAddr(), hb, &resp)
	}()
	select {
	case rpc := <-wrapped.Consumer():
		req, ok := rpc.Command.(*raft.AppendEntriesRequest)
		if !ok || req.Term != 7 {
			t.Fatalf("main loop got %#v", rpc.Command)
		}
		rpc.Respond(&raft.AppendEntriesResponse{Term: 7}, nil)
	case <-fast:
		t.Fatal("heartbeat went to the fast-path handler")
	case <-time.After(5 * time.Second):
		t.Fatal("heartbeat never arrived")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok := wrapped.(raft.WithClose); !ok {
		t.Fatal("wrapped transport lost Close")
	}
}
