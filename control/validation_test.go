package control

import (
	"strings"
	"testing"
	"time"
)

func validatingService(t *testing.T, autoRollback bool) (*chain, time.Time) {
	c := newChain(t)
	putChecked(c, func(sp *ServiceSpec) {
		sp.Validation = &Validation{Window: Duration(5 * time.Minute), AutoRollback: autoRollback}
	})
	c.must(Command{Op: OpHealth, Name: api, Health: health("10.0.0.21", "up", "10.0.0.22", "up")})
	ts := t0.Add(time.Hour)
	r := c.must(Command{Op: OpSwitch, Name: api, Time: ts})
	if r.Service.State != PhaseValidating || !r.Service.ValidatingUntil.Equal(ts.Add(5*time.Minute)) {
		t.Fatalf("after switch: %+v", r.Service)
	}
	return c, ts
}

func TestValidationWindowPasses(t *testing.T) {
	c, ts := validatingService(t, true)
	wantConflict(t, c.apply(Command{Op: OpValidated, Name: api, Time: ts.Add(time.Minute)}), "runs until")
	r := c.must(Command{Op: OpValidated, Name: api, Time: ts.Add(5 * time.Minute), Actor: "bgdns"})
	if r.Service.State != PhaseStable || r.Service.Previous != Blue || !r.Service.ValidatedAt.Equal(ts.Add(5*time.Minute)) {
		t.Fatalf("after validated: %+v", r.Service)
	}
	recs, _ := c.s.History(api, 1)
	if recs[0].Action != OpValidated || !strings.Contains(recs[0].Reason, "passed") {
		t.Fatalf("%+v", recs[0])
	}
	// a second end of window is refused, so two probers cannot both commit it
	wantConflict(t, c.apply(Command{Op: OpValidated, Name: api, Time: ts.Add(6 * time.Minute)}), "no validation window")
	// complete still retires blue, once every member confirmed the switch
	idx, _ := r.Service.PendingRetire()
	c.must(Command{Op: OpRetireConfirmed, Name: api, Time: ts, Retire: &RetireSpec{SwitchIndex: idx, ConfirmedAt: ts}})
	r = c.must(Command{Op: OpComplete, Name: api, Time: ts.Add(6 * time.Minute)})
	if !r.Service.Blue.Retired || r.Service.State != PhaseStable || r.Service.Previous != "" {
		t.Fatalf("after complete: %+v", r.Service)
	}
}

func TestValidatedThenManualRollback(t *testing.T) {
	c, ts := validatingService(t, false)
	c.must(Command{Op: OpValidated, Name: api, Time: ts.Add(5 * time.Minute)})
	r := c.must(Command{Op: OpRollback, Name: api, Time: ts.Add(6 * time.Minute)})
	if r.Service.Active != Blue || r.Service.State != PhaseRolledBack {
		t.Fatalf("%+v", r.Service)
	}
}

func TestValidationFailed(t *testing.T) {
	c, ts := validatingService(t, true)
	if _, failed := c.s.Service(api).ValidationFailed(); failed {
		t.Fatal("healthy colour failed")
	}
	c.must(Command{Op: OpHealth, Name: api, Time: ts.Add(time.Minute), Health: health("10.0.0.21", "down")})
	if _, failed := c.s.Service(api).ValidationFailed(); failed {
		t.Fatal("one of two down is still min_healthy 1")
	}
	svc := c.must(Command{Op: OpHealth, Name: api, Time: ts.Add(2 * time.Minute),
		Health: &HealthSpec{Changes: []HealthChange{{Addr: addrs("10.0.0.22")[0], Status: HealthDown, Detail: "connection refused"}}}}).Service
	why, failed := svc.ValidationFailed()
	if !failed || !strings.Contains(why, "0/2 healthy") || !strings.Contains(why, "10.0.0.22:8081/healthz down (connection refused)") {
		t.Fatalf("failed=%v %q", failed, why)
	}
	// the end of the window cannot pass a failed validation
	wantConflict(t, c.apply(Command{Op: OpValidated, Name: api, Time: ts.Add(10 * time.Minute)}), "failed")
	// the prober's rollback: guarded by state and revision, so it happens once
	rb := Command{Op: OpRollback, Name: api, Actor: "bgdns", Reason: why, IfState: PhaseValidating, ExpectRevision: svc.Revision}
	r := c.must(rb)
	if r.Service.Active != Blue || r.Service.State != PhaseRolledBack {
		t.Fatalf("%+v", r.Service)
	}
	if r2 := c.apply(rb); r2.Err == nil {
		t.Fatal("a second automatic rollback was applied")
	}
	if _, failed := c.s.Service(api).ValidationFailed(); failed {
		t.Fatal("failed after the rollback")
	}
}

func TestForcedSwitchToDownColourIsNotRolledBackAtOnce(t *testing.T) {
	c := newChain(t)
	putChecked(c, func(sp *ServiceSpec) {
		sp.Validation = &Validation{Window: Duration(5 * time.Minute), AutoRollback: true}
	})
	c.must(Command{Op: OpHealth, Name: api, Health: health("10.0.0.21", "down", "10.0.0.22", "down")})
	ts := t0.Add(time.Hour)
	c.must(Command{Op: OpSwitch, Name: api, Time: ts, Force: true, Reason: "checks are broken"})
	if _, failed := c.s.Service(api).ValidationFailed(); failed {
		t.Fatal("a colour down before the forced switch did not fall below min_healthy in the window")
	}
	c.must(Command{Op: OpHealth, Name: api, Time: ts.Add(time.Minute), Health: health("10.0.0.21", "up")})
	c.must(Command{Op: OpHealth, Name: api, Time: ts.Add(2 * time.Minute), Health: health("10.0.0.21", "down")})
	if _, failed := c.s.Service(api).ValidationFailed(); !failed {
		t.Fatal("up then down in the window must fail")
	}
}

// A transition the prober stamped just before the switch was stamped, but
// committed after it, still counts as a fall inside the window.
func TestTransitionCommittedAfterSwitchCounts(t *testing.T) {
	c, ts := validatingService(t, true)
	c.must(Command{Op: OpHealth, Name: api, Time: ts.Add(-time.Millisecond), Health: health("10.0.0.21", "down", "10.0.0.22", "down")})
	svc := c.s.Service(api)
	if h := svc.AddrStatus(addrs("10.0.0.21")[0]); !h.Since.Equal(ts) {
		t.Fatalf("since %v, want the switch time %v", h.Since, ts)
	}
	if _, failed := svc.ValidationFailed(); !failed {
		t.Fatal("a fall committed after the switch did not fail the validation")
	}
}
