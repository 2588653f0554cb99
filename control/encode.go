package control

import (
	"encoding/json"
	"fmt"
)

// SnapshotFormat is the version of the State encoding written today.
// Decode keeps reading every older format.
const SnapshotFormat = 1

type snapshotV1 struct {
	Format   int                 `json:"format"`
	Index    uint64              `json:"index"`
	Zones    []*Zone             `json:"zones"`
	Services []*Service          `json:"services"`
	History  map[string][]Record `json:"history"` // newest first
	Requests snapshotRequestsV1  `json:"requests"`
}

type snapshotRequestsV1 struct {
	Prev []*seenRequest `json:"prev"`
	Cur  []*seenRequest `json:"cur"`
}

// MarshalState encodes s in the current snapshot format.
func MarshalState(s *State) ([]byte, error) {
	snap := snapshotV1{
		Format:   SnapshotFormat,
		Index:    s.index,
		Zones:    s.Zones(),
		Services: s.Services(),
		History:  map[string][]Record{},
	}
	s.history.Range(func(name string, h *history) bool {
		snap.History[name] = h.records(MaxHistory)
		return true
	})
	if d := s.requests; d != nil {
		snap.Requests.Prev = byIndex(d.prev)
		snap.Requests.Cur = byIndex(d.cur)
	}
	return json.Marshal(snap)
}

// UnmarshalState decodes a snapshot written by any version of MarshalState.
func UnmarshalState(b []byte) (*State, error) {
	var head struct {
		Format int `json:"format"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	switch head.Format {
	case 1:
		return decodeV1(b)
	default:
		return nil, fmt.Errorf("decode snapshot: unknown format %d", head.Format)
	}
}

func decodeV1(b []byte) (*State, error) {
	var snap snapshotV1
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, fmt.Errorf("decode snapshot v1: %w", err)
	}
	s := Empty()
	s.index = snap.Index
	for _, z := range snap.Zones {
		s.zones[z.Name] = z
	}
	for _, svc := range snap.Services {
		s.services = s.services.With(svc.Name, svc)
	}
	for name, recs := range snap.History {
		s.history = s.history.With(name, fromRecords(recs))
	}
	d := &dedup{}
	for _, r := range snap.Requests.Prev {
		d.prev = d.prev.With(r.ID, r)
	}
	for _, r := range snap.Requests.Cur {
		d.cur = d.cur.With(r.ID, r)
	}
	s.requests = d
	return s, nil
}

// EncodeCommand and DecodeCommand are the log encoding of a Command.
func EncodeCommand(c Command) ([]byte, error) { return json.Marshal(c) }

func DecodeCommand(b []byte) (Command, error) {
	var c Command
	if err := json.Unmarshal(b, &c); err != nil {
		return Command{}, fmt.Errorf("decode command: %w", err)
	}
	return c, nil
}
