package control

import (
	"fmt"
	"strings"
	"time"
)

// DefaultMaxStale is the bound on how long a node may serve after last
// hearing from a leader, used in the retire watermark when a command does
// not carry the cluster's own value.
const DefaultMaxStale = 2 * time.Second

// guarded reports whether the service opted into the safety rules that
// change existing behaviour (the retire watermark on complete): it has a
// health check, a validation window or a minimum switch interval.
func (s *Service) guarded() bool {
	return s.HealthCheck != nil || s.Validation != nil || s.MinSwitchInterval > 0
}

// switchGates lists why a switch of svc to colour to is refused by the
// safety rules: a freeze of the service or its zone, min_switch_interval,
// and min_healthy. It reads only the state and the command.
func (s *State) switchGates(svc *Service, to Colour, cmd Command) []string {
	var why []string
	if svc.Frozen {
		why = append(why, fmt.Sprintf("%s is frozen", trimDot(svc.Name)))
	}
	if z := s.zones[svc.Zone]; z != nil && z.Frozen {
		why = append(why, fmt.Sprintf("zone %s is frozen", trimDot(z.Name)))
	}
	if iv := svc.MinSwitchInterval.D(); iv > 0 && !svc.LastSwitchAt.IsZero() {
		next := svc.LastSwitchAt.Add(iv)
		if cmd.Time.Before(next) {
			why = append(why, fmt.Sprintf("the last switch or rollback was %s ago and min_switch_interval is %s (next allowed at %s)",
				cmd.Time.Sub(svc.LastSwitchAt).Round(time.Millisecond), iv, next.UTC().Format(timeFormat)))
		}
	}
	if svc.HealthCheck != nil && svc.MinHealthy > 0 {
		if n := svc.HealthOf(to); n.Healthy < svc.MinHealthy {
			var bad []string
			for _, a := range svc.Pool(to).Addresses {
				if h := svc.Health[a]; h.Status != HealthUp {
					bad = append(bad, describeAddr(svc.HealthCheck, a, h))
				}
			}
			why = append(why, fmt.Sprintf("%s has %d of %d addresses healthy and min_healthy is %d (%s)",
				to, n.Healthy, n.Total, svc.MinHealthy, strings.Join(bad, "; ")))
		}
	}
	return why
}

// completeGates lists why complete is refused: the retire watermark of a
// guarded service has not passed.
func completeGates(svc *Service, cmd Command) []string {
	if !svc.guarded() {
		return nil
	}
	if svc.RetirePending {
		return []string{fmt.Sprintf("not every node has confirmed applying the switch at index %d yet, so some may still answer with %s",
			svc.SwitchIndex, svc.Idle())}
	}
	if svc.SafeToRetireAt.IsZero() || !cmd.Time.Before(svc.SafeToRetireAt) {
		return nil
	}
	return []string{fmt.Sprintf("resolvers may still hold answers with %s until %s (safe_to_retire_at, %s from now)",
		svc.Idle(), svc.SafeToRetireAt.UTC().Format(timeFormat), svc.SafeToRetireAt.Sub(cmd.Time).Round(time.Millisecond))}
}

// gate turns the reasons a step is refused into a 409, unless the command
// forces it (Normalize made sure a forced command has a reason). It returns
// the overridden reasons, for the history record.
func gate(svc *Service, op Op, why []string, cmd Command) ([]string, *Error) {
	if len(why) == 0 {
		return nil, nil
	}
	if !cmd.Force {
		return nil, conflictWith(svc, "%s refused: %s; force with a reason to override", op, strings.Join(why, "; "))
	}
	return why, nil
}

// switched stamps the safety fields of a service that now answers with a
// different colour (switch, rollback, or a put that changed the active
// colour). Its retire watermark waits for every member to confirm.
func (s *State) switched(next *Service, cmd Command) {
	next.LastSwitchAt = cmd.Time
	next.SwitchIndex = s.index
	next.RetirePending = true
	next.RetireConfirmedAt = time.Time{}
	next.SafeToRetireAt = time.Time{}
	next.ValidatingUntil = time.Time{}
	next.ValidatedAt = time.Time{}
}

// putSafety copies the safety fields of a service put onto svc. The
// committed health of addresses still present is kept when the probe is
// the same; the switch memory is kept, or restamped when the put changes
// the active colour.
func (s *State) putSafety(svc *Service, sp *ServiceSpec, old *Service, cmd Command) {
	svc.HealthCheck = sp.HealthCheck
	svc.Validation = sp.Validation
	svc.MinHealthy = sp.MinHealthy
	svc.FailClosed = sp.FailClosed
	svc.MinSwitchInterval = sp.MinSwitchInterval
	svc.Frozen = sp.Frozen
	if old == nil {
		return
	}
	if svc.HealthCheck != nil && sameProbe(old.HealthCheck, svc.HealthCheck) {
		svc.Health = healthFor(old.Health, svc.Blue, svc.Green)
	}
	svc.LastSwitchAt = old.LastSwitchAt
	svc.SafeToRetireAt = old.SafeToRetireAt
	svc.SwitchIndex, svc.RetirePending, svc.RetireConfirmedAt = old.SwitchIndex, old.RetirePending, old.RetireConfirmedAt
	if old.Active != svc.Active {
		s.switched(svc, cmd)
	}
}

// applyFreeze sets or lifts the freeze of a zone or, through the
// lifecycle, of a service.
func (s *State) applyFreeze(cmd Command) (Result, *Error) {
	z := s.zones[cmd.Name]
	if z == nil {
		return s.applyLifecycle(cmd)
	}
	if e := checkRevision(cmd, z.Revision, nil); e != nil {
		return Result{}, e
	}
	nz := *z
	nz.Frozen = cmd.Op == OpFreeze
	out := nz.touched(s.index, cmd.Time)
	s.putZone(out)
	s.audited(cmd, z.Name, "", "")
	return Result{Zone: out}, nil
}

// freeze sets or lifts a service's freeze.
func (s *State) freeze(svc *Service, cmd Command) (*Service, Record, *Error) {
	next := svc.clone()
	next.Frozen = cmd.Op == OpFreeze
	return next, s.newRecord(cmd, "", "", ""), nil
}
