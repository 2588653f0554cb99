package cluster

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/bgdns/bgdns/control"
)

// snapshotFormat is the version of the snapshot envelope written today.
// decodeSnapshot keeps reading every older format; fixtures of each live in
// testdata/snapshots.
//
//	1: {"bgdns_snapshot":1,"applied","members","state"}
//	2: the same envelope plus "chain" (the divergence hash at "applied"),
//	   followed by a trailer line {"crc32c":N,"length":L} over the
//	   envelope's bytes, verified before anything is restored.
const snapshotFormat = 2

// maxSnapshotSize bounds what Restore reads into memory.
const maxSnapshotSize = 1 << 30

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt marks data that failed its checksum.
var errCorrupt = errors.New("checksum mismatch")

// snapshotEnvelope wraps the control state with what the cluster itself
// replicates: member metadata and the index of the last applied command.
type snapshotEnvelope struct {
	Format  int             `json:"bgdns_snapshot"`
	Applied uint64          `json:"applied"`
	Members []Member        `json:"members"`
	Chain   *chainHead      `json:"chain,omitempty"`
	State   json.RawMessage `json:"state"`
}

type chainHead struct {
	Index uint64 `json:"index"`
	Hash  string `json:"hash"`
}

type snapshotTrailer struct {
	CRC32C uint32 `json:"crc32c"`
	Length int64  `json:"length"`
}

// snapshotData is what one snapshot holds, decoded.
type snapshotData struct {
	applied   uint64
	members   members
	state     *control.State
	chainHash []byte // nil: unknown
}

func encodeSnapshot(w io.Writer, d snapshotData) error {
	st, err := control.MarshalState(d.state)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	env := snapshotEnvelope{Format: snapshotFormat, Applied: d.applied, Members: d.members.sorted(), State: st}
	if d.chainHash != nil {
		env.Chain = &chainHead{Index: d.applied, Hash: hex.EncodeToString(d.chainHash)}
	}
	body, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	bw := bufio.NewWriter(w)
	bw.Write(body)
	bw.WriteByte('\n')
	tr, _ := json.Marshal(snapshotTrailer{CRC32C: crc32.Checksum(body, castagnoli), Length: int64(len(body))})
	bw.Write(tr)
	bw.WriteByte('\n')
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
	dec := json.NewDecoder(bytes.NewReader(b))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return snapshotData{}, fmt.Errorf("decode snapshot: %w", err)
	}
	var head struct {
		Format int `json:"bgdns_snapshot"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return snapshotData{}, fmt.Errorf("decode snapshot: %w", err)
	}
	switch head.Format {
	case 1:
		return decodeSnapshotV1(raw)
	case 2:
		var tr snapshotTrailer
		if err := dec.Decode(&tr); err != nil {
			return snapshotData{}, fmt.Errorf("decode snapshot: no checksum trailer (truncated?): %w: %w", errCorrupt, err)
		}
		if tr.Length != int64(len(raw)) || crc32.Checksum(raw, castagnoli) != tr.CRC32C {
			return snapshotData{}, fmt.Errorf("decode snapshot: %w (%d bytes, crc32c %08x; trailer says %d bytes, %08x)",
				errCorrupt, len(raw), crc32.Checksum(raw, castagnoli), tr.Length, tr.CRC32C)
		}
		return decodeSnapshotV2(raw)
	default:
		return snapshotData{}, fmt.Errorf("decode snapshot: format %d is newer than this build understands (%d); upgrade bgdns", head.Format, snapshotFormat)
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

func decodeSnapshotV2(b []byte) (snapshotData, error) {
	d, err := decodeSnapshotV1(b)
	if err != nil {
		return d, err
	}
	var env snapshotEnvelope
	_ = json.Unmarshal(b, &env) // decoded once already
	if env.Chain != nil {
		h, err := hex.DecodeString(env.Chain.Hash)
		if err != nil || env.Chain.Index != env.Applied {
			return snapshotData{}, fmt.Errorf("decode snapshot v2: bad chain %+v", env.Chain)
		}
		d.chainHash = h
	}
	return d, nil
}
