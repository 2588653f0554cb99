package control

import (
	"net/netip"
	"strings"
)

// applyHealth commits address health transitions of one service. Changes
// for addresses in neither pool (a deploy raced the prober) and changes to
// the status an address already has are ignored; when nothing is left the
// command changes nothing (no revision, no history), so a transition
// proposed twice is applied once.
func (s *State) applyHealth(cmd Command) (Result, *Error) {
	svc := s.Service(cmd.Name)
	if svc == nil {
		return Result{}, NotFound("service %s not found", trimDot(cmd.Name))
	}
	if e := checkRevision(cmd, svc.Revision, svc); e != nil {
		return Result{}, e
	}
	if svc.HealthCheck == nil {
		return Result{}, conflictWith(svc, "%s has no health check", trimDot(svc.Name))
	}
	inPools := func(a netip.Addr) bool {
		for _, p := range []*Pool{svc.Blue, svc.Green} {
			if p == nil {
				continue
			}
			for _, x := range p.Addresses {
				if x == a {
					return true
				}
			}
		}
		return false
	}
	// A transition committed after a switch took effect after it, even when
	// the prober stamped it a moment before the switch was stamped.
	since := cmd.Time
	if since.Before(svc.LastSwitchAt) {
		since = svc.LastSwitchAt
	}
	var applied []string
	var health map[netip.Addr]AddrHealth
	for _, ch := range cmd.Health.Changes {
		if !inPools(ch.Addr) || svc.Health[ch.Addr].Status == ch.Status {
			continue
		}
		if health == nil {
			health = make(map[netip.Addr]AddrHealth, len(svc.Health)+len(cmd.Health.Changes))
			for k, v := range svc.Health {
				health[k] = v
			}
		}
		health[ch.Addr] = AddrHealth{Status: ch.Status, Since: since, Detail: ch.Detail}
		d := ch.Addr.String() + " " + string(ch.Status)
		if ch.Detail != "" {
			d += " (" + ch.Detail + ")"
		}
		applied = append(applied, d)
	}
	if health == nil {
		return Result{Service: svc}, nil
	}
	next := svc.clone()
	next.Health = health
	next.Revision = s.index
	next.ChangedAt = cmd.Time
	s.setService(next.Name, next)
	s.touchZone(next.Zone, cmd, s.index)
	rec := s.newRecord(cmd, "", "", "")
	if rec.Reason == "" {
		rec.Reason = strings.Join(applied, "; ")
		if len(rec.Reason) > MaxReasonLen {
			rec.Reason = rec.Reason[:MaxReasonLen-3] + "..."
		}
	}
	s.record(next.Name, rec)
	return Result{Service: next}, nil
}
