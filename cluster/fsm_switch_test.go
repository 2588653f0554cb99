package cluster

import (
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
)

// The FSM tells OnSwitch of each applied switch and rollback, with the
// time the leader appended the entry; nothing else, and no refused one.
func TestFSMOnSwitch(t *testing.T) {
	type call struct {
		svc string
		at  time.Time
	}
	var calls []call
	f := newFSM(nil, testLogger())
	f.onSwitch = func(svc string, at time.Time) { calls = append(calls, call{svc, at}) }
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	logs := []struct {
		index uint64
		cmd   control.Command
	}{
		{3, zonePut()},
		{4, servicePut()},
		{5, deploy("2.0", "10.0.0.21")},
		{6, lifecycle(control.OpSwitch)},
		{7, lifecycle(control.OpSwitch)}, // refused: the service is validating its switch
		{8, lifecycle(control.OpRollback)},
	}
	for _, e := range logs {
		l := commandLog(t, e.index, e.cmd)
		l.AppendedAt = t0.Add(time.Duration(e.index) * time.Second)
		f.Apply(l)
	}
	if len(calls) != 2 || calls[0].at != t0.Add(6*time.Second) || calls[1].at != t0.Add(8*time.Second) {
		t.Fatalf("OnSwitch calls %+v, want the switch at index 6 and the rollback at 8", calls)
	}
	if calls[0].svc != servicePut().Name {
		t.Errorf("OnSwitch service %q, want %q", calls[0].svc, servicePut().Name)
	}
}
