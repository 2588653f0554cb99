package cluster

import (
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/bgdns/bgdns/control"
	"github.com/hashicorp/raft"
)

// fsm applies committed log entries. raft calls Apply, Snapshot and
// Restore from one goroutine; Persist runs concurrently with Apply, which is
// safe because the captured State is immutable.
type fsm struct {
	state    atomic.Pointer[control.State]
	members  atomic.Pointer[members]
	applied  atomic.Uint64 // index of the last command entry applied
	chain    *chain        // running hash of the applied entries
	onChange func(*control.State)
	log      *slog.Logger
}

var _ raft.FSM = (*fsm)(nil)

func newFSM(onChange func(*control.State), log *slog.Logger) *fsm {
	f := &fsm{onChange: onChange, log: log, chain: newChain()}
	f.state.Store(control.Empty())
	f.members.Store(&members{})
	return f
}

func (f *fsm) Members() members { return *f.members.Load() }

// Apply returns a control.Result for a command entry and an error (or nil)
// for a member entry. A malformed entry changes nothing.
func (f *fsm) Apply(l *raft.Log) interface{} {
	if l.Type != raft.LogCommand {
		return nil
	}
	defer f.applied.Store(l.Index)
	f.chain.add(l)
	if len(l.Data) == 0 {
		return errEmptyEntry
	}
	switch l.Data[0] {
	case entryCommand:
		cur := f.state.Load()
		cmd, err := control.DecodeCommand(l.Data[1:])
		if err != nil {
			return control.Result{Index: l.Index, Err: control.BadRequest("%v", err)}
		}
		next, res := cur.Apply(cmd, l.Index)
		if next != cur {
			f.state.Store(next)
			if f.onChange != nil {
				f.onChange(next)
			}
		}
		return res
	case entryMember:
		op, err := decodeMemberOp(l.Data[1:])
		if err != nil {
			f.log.Error("skipping malformed member entry", "index", l.Index, "err", err)
			return err
		}
		m := f.Members().apply(op)
		f.members.Store(&m)
		return nil
	default:
		f.log.Error("skipping log entry of unknown kind", "index", l.Index, "tag", l.Data[0])
		return errUnknownEntry
	}
}

// Snapshot captures the current pointers: O(1).
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	d := snapshotData{
		applied: f.applied.Load(),
		members: f.Members(),
		state:   f.state.Load(),
	}
	if idx, h, known := f.chain.head(); known && idx == d.applied {
		d.chainHash = h[:]
	}
	return &fsmSnapshot{d: d}, nil
}

// Restore replaces the state with a snapshot's.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	d, err := decodeSnapshot(rc)
	if err != nil {
		return err
	}
	f.members.Store(&d.members)
	f.state.Store(d.state)
	f.applied.Store(d.applied)
	f.chain.reset(d.applied, d.chainHash, d.chainHash != nil)
	if f.onChange != nil {
		f.onChange(d.state)
	}
	return nil
}

type fsmSnapshot struct{ d snapshotData }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := encodeSnapshot(sink, s.d); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}
