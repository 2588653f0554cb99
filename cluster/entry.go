package cluster

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/bgdns/bgdns/control"
)

// A Raft log entry of bgdns starts with one tag byte saying what follows.
const (
	entryCommand byte = 0x01 // a control.Command, as control.EncodeCommand writes it
	entryMember  byte = 0x02 // a memberOp (JSON): member metadata changes
)

// maxEntrySize bounds what Propose accepts into the log.
const maxEntrySize = 1 << 20

var (
	errEmptyEntry   = errors.New("empty log entry")
	errUnknownEntry = errors.New("log entry of unknown kind")
)

func encodeCommandEntry(cmd control.Command) ([]byte, error) {
	b, err := control.EncodeCommand(cmd)
	if err != nil {
		return nil, err
	}
	return append([]byte{entryCommand}, b...), nil
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
	return append([]byte{entryMember}, b...), nil
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
