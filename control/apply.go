package control

// Apply returns the State after cmd, committed at Raft index index, and the
// result. It is deterministic and never fails by panicking: a command that
// cannot be applied leaves the state as it was (the same pointer) and
// returns the reason in Result.Err.
func (s *State) Apply(cmd Command, index uint64) (*State, Result) {
	if e := cmd.Normalize(); e != nil {
		return s, Result{Index: index, Err: e}
	}
	if seen := s.requests.get(cmd.RequestID); seen != nil {
		// a retried token create carries a fresh id: the op must match
		sameName := seen.Name == cmd.Name || cmd.Op == OpTokenCreate || cmd.Op == OpACLBootstrap
		if seen.Op != cmd.Op || !sameName {
			return s, Result{Index: index, Err: Conflict(
				"request_id %q was already used for %s %s", cmd.RequestID, seen.Op, trimDot(seen.Name))}
		}
		r := seen.Result
		r.Duplicate = true
		return s, r
	}
	ns := s.with(index)
	var res Result
	var err *Error
	switch cmd.Op {
	case OpZonePut:
		res, err = ns.applyZonePut(cmd)
	case OpZoneDelete:
		res, err = ns.applyZoneDelete(cmd)
	case OpServicePut:
		res, err = ns.applyServicePut(cmd)
	case OpServiceDelete:
		res, err = ns.applyServiceDelete(cmd)
	case OpDeploy, OpSwitch, OpRollback, OpComplete, OpValidated:
		res, err = ns.applyLifecycle(cmd)
	case OpHealth:
		res, err = ns.applyHealth(cmd)
	case OpFreeze, OpUnfreeze:
		res, err = ns.applyFreeze(cmd)
	case OpACLBootstrap:
		res, err = ns.applyACLBootstrap(cmd)
	case OpTokenCreate:
		res, err = ns.applyTokenCreate(cmd)
	case OpTokenRevoke:
		res, err = ns.applyTokenRevoke(cmd)
	case OpMemberJoin, OpMemberRemove:
		res, err = ns.applyMember(cmd)
	case OpRetireConfirmed:
		res, err = ns.applyRetireConfirmed(cmd)
	default:
		err = BadRequest("unknown operation %q", cmd.Op)
	}
	if err == nil {
		err = ns.checkSize(s)
	}
	if err != nil {
		return s, Result{Index: index, Err: err}
	}
	res.Index = index
	if cmd.RequestID != "" {
		ns.requests = ns.requests.add(&seenRequest{ID: cmd.RequestID, Op: cmd.Op, Name: cmd.Name, Result: res})
	}
	return ns, res
}

// checkRevision compares a command's expect_revision with the current one.
func checkRevision(cmd Command, current uint64, svc *Service) *Error {
	if cmd.ExpectRevision == 0 || cmd.ExpectRevision == current {
		return nil
	}
	e := Conflict("revision is %d, not the expected %d", current, cmd.ExpectRevision)
	e.Service = svc
	return e
}

// conflictWith returns a 409 that carries the service's current state.
func conflictWith(svc *Service, format string, a ...any) *Error {
	e := Conflict(format, a...)
	e.Service = svc
	return e
}

func trimDot(n string) string {
	if len(n) > 1 && n[len(n)-1] == '.' {
		return n[:len(n)-1]
	}
	return n
}

// touchZone moves the serial of the zone holding a changed service.
func (s *State) touchZone(name string, cmd Command, index uint64) {
	if z := s.zones[name]; z != nil {
		s.putZone(z.touched(index, cmd.Time))
	}
}
