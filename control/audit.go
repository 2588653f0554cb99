package control

import "strings"

// MemberSpec describes a membership change for its audit record (the
// change itself goes through Raft's configuration, not through Apply).
type MemberSpec struct {
	RaftAddr string `json:"raft_addr,omitempty"`
	HTTPAddr string `json:"http_addr,omitempty"`
	NonVoter bool   `json:"non_voter,omitempty"`
}

// Audit returns up to limit audit records of zone, membership and token
// changes, newest first (service changes are in each service's history).
func (s *State) Audit(limit int) []Record {
	return s.audit.records(limit)
}

// audited appends an audit record for cmd about target.
func (s *State) audited(cmd Command, target, from, to string) {
	r := s.newRecord(cmd, from, to, "")
	r.Target = target
	s.pushAudit(r)
}

func (s *State) pushAudit(r Record) {
	old := s.audit
	s.audit = old.push(r)
	s.size += s.audit.size() - old.size()
	s.pushRecent(Event{Kind: AuditKind(r.Action), Name: r.Target, Record: r})
}

// normalizeMember checks a membership audit command: Name is the node id.
func (c *Command) normalizeMember() *Error {
	id := strings.TrimSpace(c.Name)
	if id == "" || len(id) > 128 {
		return Invalid("node id must be 1 to 128 characters")
	}
	for _, ch := range id {
		if ch <= 0x20 || ch == 0x7f || ch == '/' {
			return Invalid("node id %q may not hold spaces, slashes or control characters", id)
		}
	}
	c.Name = id
	if m := c.Member; m != nil && (!printable(m.RaftAddr) || !printable(m.HTTPAddr) ||
		len(m.RaftAddr) > 256 || len(m.HTTPAddr) > 256) {
		return Invalid("member addresses must be printable and at most 256 characters")
	}
	return nil
}

// applyMember records a join or removal that Raft has already made. A
// join of a node already recorded at the same address (a node that joins
// again at every start) and the removal of a node never recorded as a
// member still record, but only once: the next identical one is a no-op.
func (s *State) applyMember(cmd Command) (Result, *Error) {
	addr := ""
	if m := cmd.Member; m != nil {
		addr = m.RaftAddr
		if m.NonVoter {
			addr += " (non-voter)"
		}
	}
	had, known := s.members[cmd.Name]
	members := make(map[string]string, len(s.members)+1)
	for k, v := range s.members {
		members[k] = v
	}
	if cmd.Op == OpMemberJoin {
		if known && had == addr {
			return Result{}, nil
		}
		members[cmd.Name] = addr
		s.members = members
		s.audited(cmd, cmd.Name, had, addr)
		return Result{}, nil
	}
	delete(members, cmd.Name)
	s.members = members
	s.audited(cmd, cmd.Name, had, "")
	return Result{}, nil
}
