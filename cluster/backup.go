package cluster

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/hashicorp/raft"
)

// entryRestore is a log entry that replaces the control state with a
// backup's: 8 bytes of the leader's clock (unix nanoseconds, big endian),
// 2 bytes of actor length and the actor (who asked, for the audit), then
// the backup file (a snapshot as encodeSnapshot writes it), gzipped.
// It is an ordinary replicated entry: every node applies it at the same
// index and hashes it into its chain like any other, so the chains of the
// nodes stay equal across a restore.
const entryRestore byte = 0x03

// DefaultMaxBackupSize bounds a backup a node accepts for a restore.
const DefaultMaxBackupSize = 64 << 20

// maxRestoreEntry bounds the restore entry (the backup compressed).
const maxRestoreEntry = 32 << 20

// SnapshotInfo is what a backup file holds, as bgdns snapshot inspect
// prints it.
type SnapshotInfo struct {
	Format         int    `json:"format"`
	Index          uint64 `json:"index"`
	Zones          int    `json:"zones"`
	Services       int    `json:"services"`
	HistoryRecords int    `json:"history_records"`
	Tokens         int    `json:"tokens"`
	Members        int    `json:"members"`
	Bytes          int    `json:"bytes"`
	ChecksumOK     bool   `json:"checksum_ok"`
}

// InspectSnapshot decodes a backup file and verifies its checksum. A
// corrupt or truncated file is an error that says so.
func InspectSnapshot(b []byte) (SnapshotInfo, error) {
	d, format, err := decodeBackup(b)
	if err != nil {
		return SnapshotInfo{}, err
	}
	return infoOf(d, format, len(b)), nil
}

func infoOf(d snapshotData, format, size int) SnapshotInfo {
	_, recs := d.state.HistoryCounts()
	return SnapshotInfo{
		Format: format, Index: d.applied, Zones: len(d.state.Zones()), Services: d.state.ServiceCount(),
		HistoryRecords: recs, Tokens: len(d.state.Tokens()), Members: len(d.members),
		Bytes: size, ChecksumOK: format >= 2,
	}
}

// decodeBackup decodes a backup file; only the checksummed format is
// accepted (an older one has no checksum to verify).
func decodeBackup(b []byte) (snapshotData, int, error) {
	if len(b) > DefaultMaxBackupSize*16 {
		return snapshotData{}, 0, fmt.Errorf("backup: %d bytes is more than any snapshot", len(b))
	}
	d, err := decodeSnapshot(bytes.NewReader(b))
	if err != nil {
		if errors.Is(err, errCorrupt) {
			return snapshotData{}, 0, fmt.Errorf("backup is corrupt or truncated: %w", err)
		}
		return snapshotData{}, 0, fmt.Errorf("not a bgdns snapshot: %w", err)
	}
	var head struct {
		Format int `json:"bgdns_snapshot"`
	}
	_ = jsonFirst(b, &head)
	if head.Format < 2 {
		return snapshotData{}, head.Format, fmt.Errorf("backup: snapshot format %d carries no checksum; only format 2 or later is accepted", head.Format)
	}
	return d, head.Format, nil
}

// WriteSnapshot writes a consistent snapshot of this node's whole state
// (zones, services, histories, tokens, audit, members) to w, in the format
// raft's snapshots have on disk: the envelope and its CRC-32C trailer. It
// takes a raft snapshot (the FSM captures its state between two applies)
// or, when nothing was applied since the last one, reads that one. While
// raft cannot take one (a membership change not yet committed), it tries
// again until ctx ends, and then answers CodeNoLeader.
func (n *Node) WriteSnapshot(ctx context.Context, w io.Writer) (SnapshotInfo, error) {
	rc, err := n.openBackupSnapshot(ctx)
	if err != nil {
		return SnapshotInfo{}, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxSnapshotSize+1))
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("cluster: read snapshot: %w", err)
	}
	info, err := InspectSnapshot(b) // verify before handing it out
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("cluster: the snapshot just taken does not decode: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		return info, err
	}
	return info, nil
}

// backupRetry is how long WriteSnapshot waits before asking raft again.
const backupRetry = 50 * time.Millisecond

// openBackupSnapshot takes a raft snapshot and opens it, or opens the
// newest one when nothing was applied since it was taken.
func (n *Node) openBackupSnapshot(ctx context.Context) (io.ReadCloser, error) {
	for {
		f := n.raft.Snapshot()
		err := f.Error()
		switch {
		case err == nil:
			_, r, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("cluster: open snapshot: %w", err)
			}
			return r, nil
		case errors.Is(err, raft.ErrNothingNewToSnapshot):
			list, err := n.stores.snaps.List()
			if err != nil || len(list) == 0 {
				return nil, fmt.Errorf("cluster: no snapshot to read (%v)", err)
			}
			_, r, err := n.stores.snaps.Open(list[0].ID)
			if err != nil {
				return nil, fmt.Errorf("cluster: open snapshot %s: %w", list[0].ID, err)
			}
			return r, nil
		case errors.Is(err, raft.ErrRaftShutdown):
			return nil, &control.Error{Code: control.CodeNoLeader, Message: "this node is shutting down"}
		}
		// Raft refuses a snapshot while the newest configuration entry
		// is not yet committed (a join or removal in flight): wait.
		select {
		case <-ctx.Done():
			return nil, &control.Error{Code: control.CodeNoLeader,
				Message: fmt.Sprintf("cannot take a snapshot now (%v); try again", err)}
		case <-time.After(backupRetry):
		}
	}
}

// RestoreSnapshot replaces the state of the whole cluster with the backup
// b, through a replicated entry: every node applies it. Only the leader
// proposes it (a follower answers not_leader). The backup is verified
// first; a corrupt one changes nothing.
func (n *Node) RestoreSnapshot(ctx context.Context, b []byte, actor string) (SnapshotInfo, uint64, error) {
	if int64(len(b)) > DefaultMaxBackupSize*16 {
		return SnapshotInfo{}, 0, control.Invalid("backup of %d bytes is too large", len(b))
	}
	info, err := InspectSnapshot(b)
	if err != nil {
		return SnapshotInfo{}, 0, control.Invalid("%v", err)
	}
	if err := n.checkLeader(); err != nil {
		return info, 0, err
	}
	data, err := encodeRestoreEntry(time.Now().UTC(), actor, b)
	if err != nil {
		return info, 0, err
	}
	if len(data) > maxRestoreEntry {
		return info, 0, control.Invalid("backup compresses to %d bytes, more than the %d a log entry may hold", len(data), maxRestoreEntry)
	}
	resp, err := n.apply(ctx, data)
	if err != nil {
		return info, 0, err
	}
	n.pushCommit()
	switch r := resp.(type) {
	case restoreResult:
		return info, r.index, nil
	case error:
		return info, 0, &control.Error{Code: control.CodeInternal, Message: r.Error()}
	default:
		return info, 0, &control.Error{Code: control.CodeInternal, Message: fmt.Sprintf("unexpected apply response %T", resp)}
	}
}

type restoreResult struct{ index uint64 }

func encodeRestoreEntry(at time.Time, actor string, backup []byte) ([]byte, error) {
	if len(actor) > 1024 {
		actor = actor[:1024]
	}
	var buf bytes.Buffer
	var hdr [10]byte
	binary.BigEndian.PutUint64(hdr[:8], uint64(at.UnixNano()))
	binary.BigEndian.PutUint16(hdr[8:], uint16(len(actor)))
	buf.Write(hdr[:])
	buf.WriteString(actor)
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(backup); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	out := frame(entryRestore, buf.Bytes())
	out[1] = entryVersionRestore
	return out, nil
}

// entryVersionRestore is the encoding version restore entries carry.
const entryVersionRestore byte = 2

func decodeRestoreEntry(body []byte) (at time.Time, actor string, d snapshotData, err error) {
	if len(body) < 10 {
		return at, "", d, errors.New("restore entry shorter than its header")
	}
	at = time.Unix(0, int64(binary.BigEndian.Uint64(body[:8]))).UTC()
	n := int(binary.BigEndian.Uint16(body[8:10]))
	if len(body) < 10+n {
		return at, "", d, errors.New("restore entry shorter than its actor")
	}
	actor = string(body[10 : 10+n])
	zr, err := gzip.NewReader(bytes.NewReader(body[10+n:]))
	if err != nil {
		return at, actor, d, fmt.Errorf("restore entry: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, maxSnapshotSize+1))
	if err != nil {
		return at, actor, d, fmt.Errorf("restore entry: %w", err)
	}
	d, _, err = decodeBackup(b)
	return at, actor, d, err
}

// applyRestore is the FSM's side of a restore entry. What it does depends
// only on the entry, so every node ends in the same state.
func (f *fsm) applyRestore(l *raft.Log, body []byte) interface{} {
	at, actor, d, err := decodeRestoreEntry(body)
	if err != nil {
		f.log.Error("restore entry not applied", "index", l.Index, "err", err)
		return err
	}
	next := d.state.RestoredOnto(f.state.Load(), l.Index, at, actor)
	f.state.Store(next)
	f.retire.reset(next)
	if f.onChange != nil {
		f.onChange(next)
	}
	f.log.Info("state restored from a backup", "index", l.Index, "backup_index", d.applied,
		"zones", len(next.Zones()), "services", next.ServiceCount())
	return restoreResult{index: l.Index}
}

// BackupTo is WriteSnapshot for the API: the index the snapshot holds.
func (n *Node) BackupTo(ctx context.Context, w io.Writer) (uint64, error) {
	info, err := n.WriteSnapshot(ctx, w)
	return info.Index, err
}

// RestoreFrom is RestoreSnapshot for the API.
func (n *Node) RestoreFrom(ctx context.Context, backup []byte, actor string) (uint64, any, error) {
	info, index, err := n.RestoreSnapshot(ctx, backup, actor)
	return index, info, err
}
