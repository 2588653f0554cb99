package control

func (s *State) applyZonePut(cmd Command) (Result, *Error) {
	name := cmd.Name
	for n := name; n != ""; n = parentOf(n) {
		if s.Service(n) != nil {
			return Result{}, Conflict("%s is a service name; a zone cannot be at or below it", trimDot(n))
		}
	}
	old := s.zones[name]
	var rev uint64
	if old != nil {
		rev = old.Revision
	} else if cmd.ExpectRevision != 0 {
		return Result{}, Conflict("zone %s does not exist (expected revision %d)", trimDot(name), cmd.ExpectRevision)
	} else if len(s.zones) >= quota.MaxZones {
		return Result{}, QuotaExceeded("at most %d zones", quota.MaxZones)
	}
	if e := checkRevision(cmd, rev, nil); e != nil {
		return Result{}, e
	}
	for _, ns := range cmd.Zone.NS {
		if svc := s.Service(ns); svc != nil {
			return Result{}, Conflict("NS host %s is already a service name", trimDot(ns))
		}
	}
	if cmd.Zone.NSAuto && len(cmd.Zone.NS) == 0 {
		return Result{}, Invalid(`zone %s has "ns":"auto", but no member of the cluster has an NS name (serve --ns-name)`, trimDot(name))
	}
	z := &Zone{Name: name, SOA: cmd.Zone.SOA, NS: cmd.Zone.NS, Glue: cmd.Zone.Glue, Frozen: cmd.Zone.Frozen,
		AllowLoopback: cmd.Zone.AllowLoopback, NSAuto: cmd.Zone.NSAuto}
	if old != nil && old.AllowLoopback && !z.AllowLoopback {
		for _, svc := range s.ServicesInZone(name) {
			if a, ok := loopbackIn(svc.Blue, svc.Green); ok {
				return Result{}, Conflict("service %s still has the loopback address %s; allow_loopback must stay on", trimDot(svc.Name), a)
			}
		}
	}
	z = z.touched(s.index, cmd.Time)
	s.putZone(z)
	from := ""
	if old != nil {
		from = "revision " + uitoa(old.Revision)
	}
	s.audited(cmd, name, from, "revision "+uitoa(z.Revision))
	return Result{Zone: z}, nil
}

func (s *State) applyZoneDelete(cmd Command) (Result, *Error) {
	z := s.zones[cmd.Name]
	if z == nil {
		return Result{}, NotFound("zone %s not found", trimDot(cmd.Name))
	}
	if e := checkRevision(cmd, z.Revision, nil); e != nil {
		return Result{}, e
	}
	n := 0
	s.services.Range(func(_ string, v *Service) bool {
		if v.Zone == z.Name {
			n++
		}
		return true
	})
	if n > 0 {
		return Result{}, Conflict("zone %s still has %d services; delete them first", trimDot(z.Name), n)
	}
	s.deleteZone(z.Name)
	s.audited(cmd, z.Name, "revision "+uitoa(z.Revision), "")
	return Result{Zone: z}, nil
}
