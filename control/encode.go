package control

import (
	"encoding/json"
	"fmt"
)

// SnapshotFormat is the version of the State encoding written today.
// Decode keeps reading every older format.
const SnapshotFormat = 2

type snapshotV1 struct {
	Format   int                 `json:"format"`
	Index    uint64              `json:"index"`
	Zones    []*Zone             `json:"zones"`
	Services []*Service          `json:"services"`
	History  map[string][]Record `json:"history"` // newest first
	Requests snapshotRequestsV1  `json:"requests"`
}

// snapshotV2 adds the ACL (tokens, by secret hash only) and the audit
// records of zone, membership and token changes.
type snapshotV2 struct {
	snapshotV1
	ACL   snapshotACLV2 `json:"acl"`
	Audit []Record      `json:"audit"` // newest first
	// Members is the membership as the audit recorded it (id -> address).
	Members map[string]string `json:"audit_members"`
}

type snapshotACLV2 struct {
	Bootstrapped bool     `json:"bootstrapped"`
	BootIndex    uint64   `json:"bootstrap_index,omitempty"`
	Tokens       []*Token `json:"tokens"`
}

type snapshotRequestsV1 struct {
	Prev []*seenRequest `json:"prev"`
	Cur  []*seenRequest `json:"cur"`
}

// MarshalState encodes s in the current snapshot format.
func MarshalState(s *State) ([]byte, error) {
	snap := snapshotV2{snapshotV1: snapshotV1{
		Format:   SnapshotFormat,
		Index:    s.index,
		Zones:    s.Zones(),
		Services: s.Services(),
		History:  map[string][]Record{},
	}}
	snap.ACL.Bootstrapped, snap.ACL.BootIndex = s.ACLBootstrapped()
	snap.ACL.Tokens = s.Tokens()
	if snap.ACL.Tokens == nil {
		snap.ACL.Tokens = []*Token{}
	}
	snap.Members = s.members
	if snap.Members == nil {
		snap.Members = map[string]string{}
	}
	snap.Audit = s.Audit(MaxHistory)
	if snap.Audit == nil {
		snap.Audit = []Record{}
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
		var snap snapshotV1
		if err := json.Unmarshal(b, &snap); err != nil {
			return nil, fmt.Errorf("decode snapshot v1: %w", err)
		}
		return fromV1(snap), nil
	case 2:
		return decodeV2(b)
	default:
		return nil, fmt.Errorf("decode snapshot: unknown format %d", head.Format)
	}
}

func decodeV2(b []byte) (*State, error) {
	var snap snapshotV2
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, fmt.Errorf("decode snapshot v2: %w", err)
	}
	s := fromV1(snap.snapshotV1)
	if snap.ACL.Bootstrapped || len(snap.ACL.Tokens) > 0 {
		a := &acl{}
		for _, t := range snap.ACL.Tokens {
			if t == nil || t.ID == "" || t.SecretHash == "" {
				return nil, fmt.Errorf("decode snapshot v2: a token without id or secret hash")
			}
			a = a.with(t, "")
		}
		a.bootstrapped, a.bootIndex = snap.ACL.Bootstrapped, snap.ACL.BootIndex
		s.acl = a
	}
	s.audit = fromRecords(snap.Audit)
	if len(snap.Members) > 0 {
		s.members = snap.Members
	}
	s.recount()
	return s, nil
}

// fromV1 builds the state a v1 snapshot holds (no ACL, no audit).
func fromV1(snap snapshotV1) *State {
	s := Empty()
	s.index = snap.Index
	s.recentFrom = snap.Index // the records before are in the histories only
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
	s.recount()
	return s
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
