package cluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/bgdns/bgdns/control"
)

// snapshotFormat is the version of the snapshot envelope written today.
// decodeSnapshot keeps reading every older format; fixtures of each live in
// testdata/snapshots.
const snapshotFormat = 1

// maxSnapshotSize bounds what Restore reads into memory.
const maxSnapshotSize = 1 << 30

// snapshotEnvelope wraps the control state with what the cluster itself
// replicates: member metadata and the index of the last applied command.
type snapshotEnvelope struct {
	Format  int             `json:"bgdns_snapshot"`
	Applied uint64          `json:"applied"`
	Members []Member        `json:"members"`
	State   json.RawMessage `json:"state"`
}

// snapshotData is what one snapshot holds, decoded.
type snapshotData struct {
	applied uint64
	members members
	state   *control.State
}

func encodeSnapshot(w io.Writer, d snapshotData) error {
	st, err := control.MarshalState(d.state)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	bw := bufio.NewWriter(w)
	env := snapshotEnvelope{Format: snapshotFormat, Applied: d.applied, Members: d.members.sorted(), State: st}
	if err := json.NewEncoder(bw).Encode(env); err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	return bw.Flush()
}

func decodeSnapshot(r io.Reader) (snapshotData, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxSnapshotSize+1))
	if err != nil {
		return snapshotData{}, fmt.Errorf("read snapshot: %w", err)
	}
	if len(b) > maxSnapshotSize {
		return snapshotData{}, fmt.Errorf("snapshot is larger than %d bytes", maxSnapshotSize)
	}
	var head struct {
		Format int `json:"bgdns_snapshot"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return snapshotData{}, fmt.Errorf("decode snapshot: %w", err)
	}
	switch head.Format {
	case 1:
		return decodeSnapshotV1(b)
	default:
		return snapshotData{}, fmt.Errorf("decode snapshot: unknown format %d", head.Format)
	}
}

func decodeSnapshotV1(b []byte) (snapshotData, error) {
	var env snapshotEnvelope
	if err := json.Unmarshal(b, &env); err != nil {
		return snapshotData{}, fmt.Errorf("decode snapshot v1: %w", err)
	}
	st, err := control.UnmarshalState(env.State)
	if err != nil {
		return snapshotData{}, err
	}
	return snapshotData{applied: env.Applied, members: membersFrom(env.Members), state: st}, nil
}
