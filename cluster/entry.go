package cluster

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/bgdns/bgdns/control"
)

// A Raft log entry of bgdns starts with one tag byte saying what follows.
//
// Entries written today are framed: tag | framed, one byte of encoding
// version, the CRC-32C (Castagnoli) of the body, big-endian, then the
// body. Apply verifies the checksum and the version before it decodes the
// body. Unframed entries (tag alone, then the body) come from older
// releases and are still applied.
const (
	entryCommand byte = 0x01 // a control.Command, as control.EncodeCommand writes it
	entryMember  byte = 0x02 // a memberOp (JSON): member metadata changes

	entryFramed  byte = 0x80 // or-ed into the tag of a framed entry
	entryVersion byte = 1    // the framed encoding written today
	// entryVersionRead is the newest encoding this build reads: version
	// 2 is version 1 plus the restore entry, which is written as version
	// 2 so that a node of an older release refuses it (and stops
	// serving) instead of skipping it as an unknown kind.
	entryVersionRead byte = 2
	entryFrameHeader      = 1 + 1 + 4
)

// maxEntrySize bounds what Propose accepts into the log.
const maxEntrySize = 1 << 20

var (
	errEmptyEntry   = errors.New("empty log entry")
	errUnknownEntry = errors.New("log entry of unknown kind")
	// errNewerEntry: written by a newer release; this node cannot apply
	// it and stops serving until it is upgraded.
	errNewerEntry = errors.New("log entry of a newer encoding version")
)

// frame wraps body as a checksummed entry of kind tag.
func frame(tag byte, body []byte) []byte {
	out := make([]byte, entryFrameHeader, entryFrameHeader+len(body))
	out[0], out[1] = tag|entryFramed, entryVersion
	binary.BigEndian.PutUint32(out[2:6], crc32.Checksum(body, castagnoli))
	return append(out, body...)
}

// unframe returns an entry's kind and body, verifying a framed entry's
// checksum and version.
func unframe(data []byte) (tag byte, body []byte, err error) {
	if len(data) == 0 {
		return 0, nil, errEmptyEntry
	}
	tag = data[0]
	if tag&entryFramed == 0 {
		// Older releases wrote the tag, then JSON. Anything else is a
		// framed entry whose flag bit was damaged.
		if len(data) < 2 || data[1] != '{' {
			return tag, nil, fmt.Errorf("entry without a frame does not hold JSON: %w", errCorrupt)
		}
		return tag, data[1:], nil
	}
	tag &^= entryFramed
	if len(data) < entryFrameHeader {
		return tag, nil, fmt.Errorf("entry of %d bytes is shorter than its header: %w", len(data), errCorrupt)
	}
	if v := data[1]; v > entryVersionRead {
		return tag, nil, fmt.Errorf("%w %d (this build reads up to %d): upgrade bgdns", errNewerEntry, v, entryVersionRead)
	}
	body = data[entryFrameHeader:]
	if want, got := binary.BigEndian.Uint32(data[2:6]), crc32.Checksum(body, castagnoli); want != got {
		return tag, nil, fmt.Errorf("entry crc32c %08x, computed %08x: %w", want, got, errCorrupt)
	}
	return tag, body, nil
}

func encodeCommandEntry(cmd control.Command) ([]byte, error) {
	b, err := control.EncodeCommand(cmd)
	if err != nil {
		return nil, err
	}
	return frame(entryCommand, b), nil
}

// memberOp sets or deletes one member's metadata.
type memberOp struct {
	Op     string `json:"op"` // "set" or "delete"
	Member Member `json:"member"`
}

const (
	memberSet    = "set"
	memberDelete = "delete"
)

func encodeMemberEntry(op memberOp) ([]byte, error) {
	b, err := json.Marshal(op)
	if err != nil {
		return nil, err
	}
	return frame(entryMember, b), nil
}

func decodeMemberOp(b []byte) (memberOp, error) {
	var op memberOp
	if err := json.Unmarshal(b, &op); err != nil {
		return op, fmt.Errorf("decode member entry: %w", err)
	}
	if op.Member.ID == "" || (op.Op != memberSet && op.Op != memberDelete) {
		return op, fmt.Errorf("decode member entry: bad op %q for %q", op.Op, op.Member.ID)
	}
	return op, nil
}
