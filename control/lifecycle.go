package control

import "time"

// applyLifecycle runs deploy, switch, rollback and complete: the blue-green
// steps (deploy onto the idle colour, switch, roll back, complete and retire
// the old colour).
func (s *State) applyLifecycle(cmd Command) (Result, *Error) {
	svc := s.Service(cmd.Name)
	if svc == nil {
		return Result{}, NotFound("service %s not found", trimDot(cmd.Name))
	}
	if e := checkRevision(cmd, svc.Revision, svc); e != nil {
		return Result{}, e
	}
	if cmd.IfState != "" && cmd.IfState != svc.State {
		return Result{}, conflictWith(svc, "%s is %s, not %s", trimDot(svc.Name), svc.State, cmd.IfState)
	}
	var next *Service
	var rec Record
	var err *Error
	switch cmd.Op {
	case OpDeploy:
		next, rec, err = s.deploy(svc, cmd)
	case OpSwitch:
		next, rec, err = s.switchTo(svc, cmd)
	case OpRollback:
		next, rec, err = s.rollback(svc, cmd)
	case OpComplete:
		next, rec, err = s.complete(svc, cmd)
	case OpValidated:
		next, rec, err = s.validated(svc, cmd)
	case OpFreeze, OpUnfreeze:
		next, rec, err = s.freeze(svc, cmd)
	}
	if err != nil {
		return Result{}, err
	}
	next.Revision = s.index
	next.ChangedAt = cmd.Time
	s.setService(next.Name, next)
	s.touchZone(next.Zone, cmd, s.index)
	s.record(next.Name, rec)
	return Result{Service: next}, nil
}

func (s *State) deploy(svc *Service, cmd Command) (*Service, Record, *Error) {
	if svc.State == PhaseValidating {
		return nil, Record{}, conflictWith(svc,
			"%s is validating the switch to %s; complete or roll back before deploying", trimDot(svc.Name), svc.Active)
	}
	if e := checkLoopback(s.zones[svc.Zone], &Pool{Addresses: cmd.Deploy.Addresses}); e != nil {
		return nil, Record{}, e
	}
	idle := svc.Idle()
	next := svc.withPool(idle, &Pool{Version: cmd.Deploy.Version, Addresses: cmd.Deploy.Addresses})
	next.State = PhaseDeployed
	next.Previous = ""
	// the new pool starts unprobed; the retired slot's watermark is over
	next.Health = healthFor(svc.Health, svc.ActivePool())
	next.SafeToRetireAt = time.Time{}
	next.ValidatingUntil, next.ValidatedAt = time.Time{}, time.Time{}
	return next, s.newRecord(cmd, "", string(idle), cmd.Deploy.Version), nil
}

func (s *State) switchTo(svc *Service, cmd Command) (*Service, Record, *Error) {
	to := cmd.To
	if to == "" {
		to = svc.Idle()
	}
	if to == svc.Active {
		return nil, Record{}, conflictWith(svc, "%s is already active", to)
	}
	if svc.State == PhaseValidating {
		return nil, Record{}, conflictWith(svc,
			"%s is validating the switch to %s; complete it or roll back", trimDot(svc.Name), svc.Active)
	}
	p := svc.Pool(to)
	if !p.HasAddresses() {
		return nil, Record{}, conflictWith(svc, "%s has no addresses; deploy to it first", to)
	}
	if p.Retired {
		return nil, Record{}, conflictWith(svc, "%s is retired; deploy to it first", to)
	}
	overrides, err := gate(svc, cmd.Op, s.switchGates(svc, to, cmd), cmd)
	if err != nil {
		return nil, Record{}, err
	}
	next := svc.clone()
	next.Previous = svc.Active
	next.Active = to
	next.State = PhaseValidating
	s.switched(next, cmd)
	if v := svc.Validation; v != nil {
		next.ValidatingUntil = cmd.Time.Add(v.Window.D())
	}
	rec := s.newRecord(cmd, string(svc.Active), string(to), p.Version)
	rec.Override, rec.Overrides = len(overrides) > 0, overrides
	return next, rec, nil
}

func (s *State) rollback(svc *Service, cmd Command) (*Service, Record, *Error) {
	if svc.Previous == "" {
		return nil, Record{}, conflictWith(svc, "nothing to roll back to: %s has no switch to undo", trimDot(svc.Name))
	}
	next := svc.clone()
	next.Active, next.Previous = svc.Previous, ""
	next.State = PhaseRolledBack
	s.switched(next, cmd)
	return next, s.newRecord(cmd, string(svc.Active), string(next.Active), next.ActivePool().Version), nil
}

func (s *State) complete(svc *Service, cmd Command) (*Service, Record, *Error) {
	validated := svc.State == PhaseStable && svc.Previous != "" // a validation window passed
	if svc.State != PhaseValidating && svc.State != PhaseRolledBack && !validated {
		return nil, Record{}, conflictWith(svc, "nothing to complete: %s is %s", trimDot(svc.Name), svc.State)
	}
	overrides, err := gate(svc, cmd.Op, completeGates(svc, cmd), cmd)
	if err != nil {
		return nil, Record{}, err
	}
	old := svc.Idle()
	next := svc.clone()
	if p := svc.Pool(old); p != nil {
		retired := *p
		retired.Retired = true
		next = next.withPool(old, &retired)
	}
	next.Previous = ""
	next.State = PhaseStable
	next.ValidatingUntil = time.Time{}
	rec := s.newRecord(cmd, string(old), string(svc.Active), svc.ActivePool().Version)
	rec.Override, rec.Overrides = len(overrides) > 0, overrides
	return next, rec, nil
}
