package control

import "strings"

// putSwitch checks a service put that changes the active colour of an
// existing service: it is a switch, so it passes the same gates (freeze of
// the service or its zone, min_switch_interval, min_healthy) or is forced
// with a reason. The rules in force before the put decide, so a put cannot
// lift a freeze or drop a health check and switch at once; the health gate
// counts the target colour's addresses as the put leaves them (an address
// new to the pool is not yet healthy). It returns the switch record, with
// any overrides, or the 409.
func (s *State) putSwitch(old, next *Service, cmd Command) (Record, *Error) {
	probe := old.clone()
	probe.Blue, probe.Green = next.Blue, next.Green
	why := s.switchGates(probe, next.Active, cmd)
	if len(why) > 0 && !cmd.Force {
		return Record{}, conflictWith(old, "changing active from %s to %s is a switch, refused: %s; switch with force and a reason to override",
			old.Active, next.Active, strings.Join(why, "; "))
	}
	rec := s.newRecord(cmd, string(old.Active), string(next.Active), next.ActivePool().Version)
	rec.Action = OpSwitch
	rec.Override, rec.Overrides = len(why) > 0, why
	return rec, nil
}
