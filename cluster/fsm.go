package cluster

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/notify"
	"github.com/hashicorp/raft"
)

// fsm applies committed log entries. raft calls Apply, Snapshot and
// Restore from one goroutine; Persist runs concurrently with Apply, which is
// safe because the captured State is immutable.
type fsm struct {
	state    atomic.Pointer[control.State]
	members  atomic.Pointer[members]
	applied  atomic.Uint64    // index of the last command entry applied
	chain    *chain           // running hash of the applied entries
	retire   *retireWatch     // services whose last switch awaits confirmation
	changes  notify.Broadcast // wakes readers waiting for the next state
	onChange func(*control.State)
	onSwitch func(service string, appendedAt time.Time)
	log      *slog.Logger
	// source names where the log lives, for messages about a bad entry.
	source string
	// broken is set when an entry could not be applied (checksum, newer
	// version): the state is no longer the cluster's, and the node stops
	// serving.
	broken atomic.Pointer[string]
}

var _ raft.FSM = (*fsm)(nil)

func newFSM(onChange func(*control.State), log *slog.Logger) *fsm {
	f := &fsm{onChange: onChange, log: log, chain: newChain(), retire: newRetireWatch()}
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
	tag, body, err := unframe(l.Data)
	if err != nil {
		if errors.Is(err, errCorrupt) || errors.Is(err, errNewerEntry) {
			f.fail(l.Index, err)
		}
		return err
	}
	switch tag {
	case entryCommand:
		cur := f.state.Load()
		cmd, err := control.DecodeCommand(body)
		if err != nil {
			return control.Result{Index: l.Index, Err: control.BadRequest("%v", err)}
		}
		next, res := cur.Apply(cmd, l.Index)
		if res.Err == nil {
			f.retire.note(res.Service)
			if f.onSwitch != nil && res.Service != nil && !res.Duplicate &&
				(cmd.Op == control.OpSwitch || cmd.Op == control.OpRollback) {
				f.onSwitch(res.Service.Name, l.AppendedAt)
			}
		}
		if next != cur {
			f.state.Store(next)
			f.changes.Broadcast()
			if f.onChange != nil {
				f.onChange(next)
			}
		}
		return res
	case entryMember:
		op, err := decodeMemberOp(body)
		if err != nil {
			f.log.Error("skipping malformed member entry", "index", l.Index, "err", err)
			return err
		}
		m := f.Members().apply(op)
		f.members.Store(&m)
		return nil
	case entryRestore:
		return f.applyRestore(l, body)
	default:
		f.log.Error("skipping log entry of unknown kind", "index", l.Index, "tag", tag)
		return errUnknownEntry
	}
}

// fail records that the entry at index cannot be applied; the first
// failure is kept.
func (f *fsm) fail(index uint64, err error) {
	why := fmt.Sprintf("log entry %d in %s cannot be applied: %v", index, f.source, err)
	if f.broken.CompareAndSwap(nil, &why) {
		f.log.Error("refusing to serve: a log entry cannot be applied", "index", index, "source", f.source, "err", err)
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
	f.retire.reset(d.state)
	f.changes.Broadcast()
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
