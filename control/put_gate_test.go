package control

import (
	"strings"
	"testing"
	"time"
)

// bothPools is a put body with both colours deployed and active set.
func bothPools(active Colour, mod func(*ServiceSpec)) *ServiceSpec {
	sp := &ServiceSpec{TTL: 5, Active: active,
		Blue:  &Pool{Version: "1", Addresses: addrs("10.0.0.11")},
		Green: &Pool{Version: "2", Addresses: addrs("10.0.0.21")}}
	if mod != nil {
		mod(sp)
	}
	return sp
}

// switchRecords returns the switch records of the service's history,
// newest first.
func switchRecords(c *chain) []Record {
	recs, _ := c.s.History(api, 0)
	var out []Record
	for _, r := range recs {
		if r.Action == OpSwitch {
			out = append(out, r)
		}
	}
	return out
}

// TestPutCannotBypassFreeze: a put that changes the active colour of a
// frozen service is refused like a switch, and goes through only when
// forced with a reason, recorded as a switch with the override.
func TestPutCannotBypassFreeze(t *testing.T) {
	c := newChain(t)
	c.must(Command{Op: OpServicePut, Name: api, Service: bothPools(Blue, nil)})
	c.must(Command{Op: OpFreeze, Name: api, Reason: "release freeze"})
	before := c.s.Service(api)

	// lifting the freeze in the same put does not help: the rules in force
	// before the write decide
	for _, sp := range []*ServiceSpec{
		bothPools(Green, func(sp *ServiceSpec) { sp.Frozen = true }),
		bothPools(Green, nil),
	} {
		r := c.apply(Command{Op: OpServicePut, Name: api, Service: sp})
		wantConflict(t, r, "is frozen")
		if !strings.Contains(r.Err.Message, "active from blue to green") {
			t.Fatalf("message does not say the put is a switch: %s", r.Err.Message)
		}
		if c.s.Service(api) != before {
			t.Fatal("a refused put changed the service")
		}
	}
	if len(switchRecords(c)) != 0 {
		t.Fatal("a refused put recorded a switch")
	}
	// a put that keeps the active colour is not a switch: allowed frozen
	r := c.must(Command{Op: OpServicePut, Name: api, Service: bothPools(Blue, func(sp *ServiceSpec) { sp.Frozen = true; sp.TTL = 30 })})
	if r.Service.TTL != 30 || r.Service.Active != Blue {
		t.Fatalf("%+v", r.Service)
	}
	if len(switchRecords(c)) != 0 {
		t.Fatal("a put that kept the colour recorded a switch")
	}
	// force needs a reason
	if r := c.apply(Command{Op: OpServicePut, Name: api, Force: true, Service: bothPools(Green, nil)}); r.Err == nil || r.Err.Code != CodeInvalid {
		t.Fatalf("force without a reason: %+v", r.Err)
	}
	r = c.must(Command{Op: OpServicePut, Name: api, Force: true, Reason: "incident 7", RequestID: "put-green",
		Service: bothPools(Green, func(sp *ServiceSpec) { sp.Frozen = true })})
	if r.Service.Active != Green || r.Service.LastSwitchAt.IsZero() || r.Service.SwitchIndex != r.Index {
		t.Fatalf("forced put: %+v", r.Service)
	}
	sw := switchRecords(c)
	if len(sw) != 1 {
		t.Fatalf("want one switch record, got %+v", sw)
	}
	if s := sw[0]; s.From != "blue" || s.To != "green" || s.Version != "2" || s.Index != r.Index ||
		!s.Override || len(s.Overrides) != 1 || !strings.Contains(s.Overrides[0], "frozen") ||
		s.Reason != "incident 7" || s.RequestID != "put-green" || s.Actor != "test" {
		t.Fatalf("switch record: %+v", s)
	}
	// the put itself is in the history too, at the same index
	recs, _ := c.s.History(api, 2)
	if recs[0].Action != OpSwitch || recs[1].Action != OpServicePut || recs[1].Index != r.Index {
		t.Fatalf("history: %+v", recs)
	}
}

func TestPutCannotBypassZoneFreeze(t *testing.T) {
	c := newChain(t)
	c.must(Command{Op: OpServicePut, Name: api, Service: bothPools(Blue, nil)})
	c.must(Command{Op: OpFreeze, Name: "bg.example.test"})
	wantConflict(t, c.apply(Command{Op: OpServicePut, Name: api, Service: bothPools(Green, nil)}), "zone bg.example.test is frozen")
	// a put that omits active means blue: fine here, blue is active
	c.must(Command{Op: OpServicePut, Name: api, Service: bothPools("", nil)})
}

func TestPutCannotBypassMinSwitchInterval(t *testing.T) {
	c := newChain(t)
	iv := func(sp *ServiceSpec) { sp.MinSwitchInterval = Duration(time.Minute) }
	c.must(Command{Op: OpServicePut, Name: api, Service: bothPools(Blue, iv)})
	t1 := t0.Add(time.Hour)
	c.must(Command{Op: OpSwitch, Name: api, Time: t1})
	// flipping back through a put within the interval is refused, and
	// dropping the interval in the same put does not help
	wantConflict(t, c.apply(Command{Op: OpServicePut, Name: api, Time: t1.Add(10 * time.Second), Service: bothPools(Blue, nil)}),
		"min_switch_interval is 1m0s")
	r := c.must(Command{Op: OpServicePut, Name: api, Time: t1.Add(61 * time.Second), Service: bothPools(Blue, iv)})
	if r.Service.Active != Blue || !r.Service.LastSwitchAt.Equal(t1.Add(61*time.Second)) {
		t.Fatalf("%+v", r.Service)
	}
	if sw := switchRecords(c); len(sw) != 2 || sw[0].From != "green" || sw[0].To != "blue" || sw[0].Override {
		t.Fatalf("switch records: %+v", sw)
	}
}

func TestPutCannotBypassMinHealthy(t *testing.T) {
	c := newChain(t)
	svc := putChecked(c, func(sp *ServiceSpec) { sp.MinHealthy = 1 })
	spec := func() *ServiceSpec {
		hc := *svc.HealthCheck
		return &ServiceSpec{TTL: 5, Active: Green, HealthCheck: &hc, MinHealthy: 1, Blue: svc.Blue, Green: svc.Green}
	}
	wantConflict(t, c.apply(Command{Op: OpServicePut, Name: api, Service: spec()}), "green has 0 of 2 addresses healthy and min_healthy is 1")
	// dropping the health check in the same put does not help
	sp := spec()
	sp.HealthCheck, sp.MinHealthy = nil, 0
	wantConflict(t, c.apply(Command{Op: OpServicePut, Name: api, Service: sp}), "min_healthy")
	c.must(Command{Op: OpHealth, Name: api, Health: health("10.0.0.21", "up")})
	// replacing the healthy address with a new, unprobed one is refused
	sp = spec()
	sp.Green = &Pool{Version: "2.0", Addresses: addrs("10.0.0.29")}
	wantConflict(t, c.apply(Command{Op: OpServicePut, Name: api, Service: sp}), "green has 0 of 1 addresses healthy")
	r := c.must(Command{Op: OpServicePut, Name: api, Service: spec()})
	if r.Service.Active != Green {
		t.Fatalf("%+v", r.Service)
	}
}

// TestPutCreateIsNotASwitch: creating a service with active green passes
// no gate and records no switch (nothing answered before).
func TestPutCreateIsNotASwitch(t *testing.T) {
	c := newChain(t)
	c.must(Command{Op: OpFreeze, Name: "bg.example.test"})
	r := c.must(Command{Op: OpServicePut, Name: api, Service: bothPools(Green, nil)})
	if r.Service.Active != Green || len(switchRecords(c)) != 0 {
		t.Fatalf("%+v", r.Service)
	}
}

// A log written under the first rules replays as it was applied then: a
// put that changed the active colour of a frozen service went through,
// with no switch record. A newer build restarting on such a log must
// reach the same state as the build that wrote it.
func TestPutUnderFirstRulesReplaysUnchanged(t *testing.T) {
	c := newChain(t)
	c.rules = 0
	c.must(Command{Op: OpServicePut, Name: api, Service: bothPools(Blue, nil)})
	c.must(Command{Op: OpFreeze, Name: api, Reason: "release freeze"})
	c.must(Command{Op: OpServicePut, Name: api, Service: bothPools(Green, func(sp *ServiceSpec) { sp.Frozen = true })})
	if got := c.s.Service(api).Active; got != Green {
		t.Fatalf("active %s after a first-rules put to green, want green", got)
	}
	if recs := switchRecords(c); len(recs) != 0 {
		t.Fatalf("a first-rules put wrote switch records: %+v", recs)
	}
	// The same put under this build's rules is a switch, and refused.
	c.rules = RulesVersion
	if r := c.apply(Command{Op: OpServicePut, Name: api, Service: bothPools(Blue, func(sp *ServiceSpec) { sp.Frozen = true })}); r.Err == nil {
		t.Fatal("a put flipping a frozen service under the current rules was accepted")
	}
}
