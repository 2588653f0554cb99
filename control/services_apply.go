package control

func (s *State) applyServicePut(cmd Command) (Result, *Error) {
	name := cmd.Name
	z := s.ZoneFor(name)
	if z == nil {
		return Result{}, Invalid("no zone encloses %s; create the zone first", trimDot(name))
	}
	if name == z.Name || parentOf(name) != z.Name {
		return Result{}, Invalid("a service name must be one label below its zone %s (e.g. api.%s)", trimDot(z.Name), trimDot(z.Name))
	}
	if isReservedLabel(firstLabel(name)) {
		return Result{}, Invalid("%q is reserved under every service and cannot start a service name", firstLabel(name))
	}
	if z.IsNSHost(name) {
		return Result{}, Conflict("%s is an NS host of zone %s", trimDot(name), trimDot(z.Name))
	}
	for zn := range s.zones {
		if zn != z.Name && InZone(zn, name) {
			return Result{}, Conflict("zone %s lies below %s", trimDot(zn), trimDot(name))
		}
	}
	if e := checkLoopback(z, cmd.Service.Blue, cmd.Service.Green); e != nil {
		return Result{}, e
	}
	old := s.Service(name)
	if old == nil && s.services.Len() >= quota.MaxServices {
		return Result{}, QuotaExceeded("at most %d services", quota.MaxServices)
	}
	var rev uint64
	if old != nil {
		rev = old.Revision
	} else if cmd.ExpectRevision != 0 {
		return Result{}, Conflict("service %s does not exist (expected revision %d)", trimDot(name), cmd.ExpectRevision)
	}
	if e := checkRevision(cmd, rev, old); e != nil {
		return Result{}, e
	}
	sp := cmd.Service
	svc := &Service{
		Name: name, Zone: z.Name, TTL: sp.TTL, Active: sp.Active, State: PhaseStable,
		Revision: s.index, Blue: sp.Blue, Green: sp.Green, NoTXT: sp.NoTXT, ChangedAt: cmd.Time,
	}
	var switchRec *Record
	if old != nil && old.Active != svc.Active && cmd.Rules >= RulesPutIsSwitch {
		rec, e := s.putSwitch(old, svc, cmd)
		if e != nil {
			return Result{}, e
		}
		switchRec = &rec
	}
	s.putSafety(svc, sp, old, cmd)
	s.setService(name, svc)
	s.touchZone(z.Name, cmd, s.index)
	s.record(name, s.newRecord(cmd, "", string(svc.Active), svc.ActivePool().Version))
	if switchRec != nil {
		// a put that changes the active colour is a switch, and its
		// history says so
		s.record(name, *switchRec)
	}
	return Result{Service: svc}, nil
}

func (s *State) applyServiceDelete(cmd Command) (Result, *Error) {
	svc := s.Service(cmd.Name)
	if svc == nil {
		return Result{}, NotFound("service %s not found", trimDot(cmd.Name))
	}
	if e := checkRevision(cmd, svc.Revision, svc); e != nil {
		return Result{}, e
	}
	s.dropService(cmd.Name)
	s.touchZone(svc.Zone, cmd, s.index)
	s.record(cmd.Name, s.newRecord(cmd, string(svc.Active), "", ""))
	return Result{Service: svc}, nil
}

func (s *State) newRecord(cmd Command, from, to, version string) Record {
	return Record{
		Time: cmd.Time, Actor: cmd.Actor, Action: cmd.Op, From: from, To: to,
		Version: version, Reason: cmd.Reason, Index: s.index, RequestID: cmd.RequestID,
		OnBehalfOf: cmd.OnBehalfOf,
	}
}
