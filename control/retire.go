package control

import (
	"time"
)

// The retire watermark. After a switch or rollback the colour that stopped
// serving (the idle colour) can still be in resolvers' caches: until every
// node has applied the change, one of them may still be giving it out, and
// for the longest TTL after that, resolvers may still hold it. A switch
// therefore leaves the service with RetirePending set and no
// SafeToRetireAt; the leader watches every member (voters and edges) apply
// the switch's index and then commits OpRetireConfirmed with the time it
// saw the last one, which sets SafeToRetireAt to that time plus the
// longest TTL. A member removed meanwhile stops counting.

// RetireSpec is the body of OpRetireConfirmed.
type RetireSpec struct {
	// SwitchIndex is the index of the switch or rollback confirmed; a
	// later switch makes the confirmation moot.
	SwitchIndex uint64 `json:"switch_index"`
	// ConfirmedAt is when the leader saw the last member apply it.
	ConfirmedAt time.Time `json:"confirmed_at"`
}

// retireTTL is the longest time a resolver may cache an answer of svc: its
// TTL or, for a negative answer, its zone's negative TTL; never under one
// second (what a stale node caps its TTLs at).
func (s *State) retireTTL(svc *Service) time.Duration {
	ttl := svc.TTL
	if z := s.zones[svc.Zone]; z != nil && z.SOA.Minimum > ttl {
		ttl = z.SOA.Minimum
	}
	return max(time.Duration(ttl)*time.Second, time.Second)
}

// applyRetireConfirmed records that every member applied the service's
// last switch. It changes no revision, serial or history: nothing that is
// answered changes. A confirmation of an earlier switch changes nothing.
func (s *State) applyRetireConfirmed(cmd Command) (Result, *Error) {
	svc := s.Service(cmd.Name)
	if svc == nil {
		return Result{}, NotFound("service %s not found", trimDot(cmd.Name))
	}
	if !svc.RetirePending || svc.SwitchIndex != cmd.Retire.SwitchIndex {
		return Result{Service: svc}, nil
	}
	next := svc.clone()
	next.RetirePending = false
	next.RetireConfirmedAt = cmd.Retire.ConfirmedAt
	next.SafeToRetireAt = cmd.Retire.ConfirmedAt.Add(s.retireTTL(next))
	s.setService(next.Name, next)
	return Result{Service: next}, nil
}

// PendingRetire reports whether svc awaits the confirmation of its last
// switch by every member, and that switch's index.
func (s *Service) PendingRetire() (uint64, bool) { return s.SwitchIndex, s.RetirePending }
