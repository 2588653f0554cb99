package control

import (
	"strings"
	"testing"
	"time"
)

func wantConflict(t *testing.T, r Result, contains string) {
	t.Helper()
	if r.Err == nil || r.Err.Code != CodeConflict || !strings.Contains(r.Err.Message, contains) {
		t.Fatalf("want 409 mentioning %q, got %+v", contains, r.Err)
	}
	if r.Err.Service == nil {
		t.Fatal("the 409 does not carry the service")
	}
}

func TestSwitchGateMinHealthy(t *testing.T) {
	c := newChain(t)
	putChecked(c, nil)
	wantConflict(t, c.apply(Command{Op: OpSwitch, Name: api}), "green has 0 of 2 addresses healthy and min_healthy is 1")

	c.must(Command{Op: OpHealth, Name: api, Health: health("10.0.0.21", "down")})
	r := c.apply(Command{Op: OpSwitch, Name: api})
	wantConflict(t, r, "http 10.0.0.21:8081/healthz down")

	// force needs a reason
	if r := c.apply(Command{Op: OpSwitch, Name: api, Force: true}); r.Err == nil || r.Err.Code != CodeInvalid {
		t.Fatalf("force without a reason: %+v", r.Err)
	}
	// once healthy, accepted without force
	c.must(Command{Op: OpHealth, Name: api, Health: health("10.0.0.22", "up")})
	r = c.must(Command{Op: OpSwitch, Name: api})
	if r.Service.Active != Green {
		t.Fatalf("%+v", r.Service)
	}
	if recs, _ := c.s.History(api, 1); recs[0].Override {
		t.Fatal("an ungated switch recorded as an override")
	}
}

func TestSwitchGateForced(t *testing.T) {
	c := newChain(t)
	putChecked(c, nil)
	r := c.must(Command{Op: OpSwitch, Name: api, Force: true, Reason: "hotfix, checks are wrong"})
	if r.Service.Active != Green {
		t.Fatalf("%+v", r.Service)
	}
	recs, _ := c.s.History(api, 1)
	if !recs[0].Override || len(recs[0].Overrides) != 1 || !strings.Contains(recs[0].Overrides[0], "min_healthy") ||
		recs[0].Reason != "hotfix, checks are wrong" {
		t.Fatalf("override record: %+v", recs[0])
	}
}

func TestMinSwitchInterval(t *testing.T) {
	c := newChain(t)
	c.must(Command{Op: OpServicePut, Name: api, Service: &ServiceSpec{MinSwitchInterval: Duration(time.Minute),
		Blue: &Pool{Version: "1", Addresses: addrs("10.0.0.11")}, Green: &Pool{Version: "2", Addresses: addrs("10.0.0.21")}}})
	t1 := t0.Add(time.Hour)
	c.must(Command{Op: OpSwitch, Name: api, Time: t1})
	// rollback is never held back by the interval
	c.must(Command{Op: OpRollback, Name: api, Time: t1.Add(time.Second)})
	c.must(Command{Op: OpComplete, Name: api, Time: t1.Add(time.Hour), Force: true, Reason: "test"})
	c.must(Command{Op: OpDeploy, Name: api, Time: t1.Add(2 * time.Second), Deploy: &DeploySpec{Version: "3", Addresses: addrs("10.0.0.31")}})
	wantConflict(t, c.apply(Command{Op: OpSwitch, Name: api, Time: t1.Add(30 * time.Second)}), "min_switch_interval is 1m0s")
	// at the end of the interval (from the rollback) it passes
	c.must(Command{Op: OpSwitch, Name: api, Time: t1.Add(61 * time.Second)})
}

func TestFreeze(t *testing.T) {
	c := newChain(t)
	putAPI(c)
	c.must(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2", Addresses: addrs("10.0.0.21")}})

	r := c.must(Command{Op: OpFreeze, Name: api, Reason: "release freeze"})
	if !r.Service.Frozen {
		t.Fatal("not frozen")
	}
	wantConflict(t, c.apply(Command{Op: OpSwitch, Name: api}), "api.bg.example.test is frozen")
	c.must(Command{Op: OpUnfreeze, Name: api})

	// zone freeze
	r = c.must(Command{Op: OpFreeze, Name: "bg.example.test"})
	if r.Zone == nil || !r.Zone.Frozen {
		t.Fatalf("zone freeze: %+v", r.Zone)
	}
	wantConflict(t, c.apply(Command{Op: OpSwitch, Name: api}), "zone bg.example.test is frozen")
	r = c.must(Command{Op: OpSwitch, Name: api, Force: true, Reason: "incident 42"})
	recs, _ := c.s.History(api, 1)
	if !recs[0].Override || !strings.Contains(recs[0].Overrides[0], "zone") {
		t.Fatalf("override record: %+v", recs[0])
	}
	// a rollback is never frozen
	c.must(Command{Op: OpRollback, Name: api})
	c.must(Command{Op: OpUnfreeze, Name: "bg.example.test"})
	c.must(Command{Op: OpSwitch, Name: api})

	// a freeze set through PUT
	c.must(Command{Op: OpServicePut, Name: api, Service: &ServiceSpec{Frozen: true,
		Blue: &Pool{Version: "1", Addresses: addrs("10.0.0.11")}, Green: &Pool{Version: "2", Addresses: addrs("10.0.0.21")}}})
	wantConflict(t, c.apply(Command{Op: OpSwitch, Name: api}), "frozen")

	if r := c.apply(Command{Op: OpFreeze, Name: "nope.bg.example.test"}); r.Err == nil || r.Err.Code != CodeNotFound {
		t.Fatalf("freeze of nothing: %+v", r.Err)
	}
}

func TestRetireWatermark(t *testing.T) {
	c := newChain(t)
	putChecked(c, nil)
	c.must(Command{Op: OpHealth, Name: api, Health: health("10.0.0.21", "up")})
	ts := t0.Add(time.Hour)
	r := c.must(Command{Op: OpSwitch, Name: api, Time: ts, MaxStale: Duration(3 * time.Second)})
	idx, pending := r.Service.PendingRetire()
	if !pending || idx != r.Index || !r.Service.SafeToRetireAt.IsZero() || !r.Service.LastSwitchAt.Equal(ts) {
		t.Fatalf("after the switch: pending %v at %d (want %d), safe_to_retire_at %v", pending, idx, r.Index, r.Service.SafeToRetireAt)
	}
	// Until every member confirmed, complete is refused, whatever the time.
	wantConflict(t, c.apply(Command{Op: OpComplete, Name: api, Time: ts.Add(time.Hour)}), "not every node has confirmed")

	// A confirmation of an earlier switch changes nothing.
	stale := c.must(Command{Op: OpRetireConfirmed, Name: api, Time: ts, Retire: &RetireSpec{SwitchIndex: idx - 1, ConfirmedAt: ts}})
	if _, p := stale.Service.PendingRetire(); !p {
		t.Fatal("a confirmation of another switch ended the wait")
	}
	rev := stale.Service.Revision
	// Confirmed 4 s after the switch: TTL 5 < the zone's negative TTL 30,
	// so safe 30 s after the confirmation.
	conf := ts.Add(4 * time.Second)
	r = c.must(Command{Op: OpRetireConfirmed, Name: api, Time: conf, Retire: &RetireSpec{SwitchIndex: idx, ConfirmedAt: conf}})
	want := conf.Add(30 * time.Second)
	if _, p := r.Service.PendingRetire(); p || !r.Service.SafeToRetireAt.Equal(want) || r.Service.Revision != rev {
		t.Fatalf("confirmed: pending %v, safe_to_retire_at %v (want %v), revision %d (want %d, unchanged)",
			p, r.Service.SafeToRetireAt, want, r.Service.Revision, rev)
	}
	wantConflict(t, c.apply(Command{Op: OpComplete, Name: api, Time: conf.Add(10 * time.Second)}), "safe_to_retire_at")
	c.must(Command{Op: OpComplete, Name: api, Time: want})

	// forced early, recorded
	c2 := newChain(t)
	putChecked(c2, nil)
	c2.must(Command{Op: OpSwitch, Name: api, Time: ts, Force: true, Reason: "r"})
	c2.must(Command{Op: OpRollback, Name: api, Time: ts.Add(time.Second)})
	r = c2.apply(Command{Op: OpComplete, Name: api, Time: ts.Add(2 * time.Second)})
	wantConflict(t, r, "some may still answer with green")
	c2.must(Command{Op: OpComplete, Name: api, Time: ts.Add(2 * time.Second), Force: true, Reason: "torn down already"})
	recs, _ := c2.s.History(api, 1)
	if !recs[0].Override || recs[0].Action != OpComplete {
		t.Fatalf("%+v", recs[0])
	}

	// a service without safety settings completes at once, as before
	c3 := newChain(t)
	putAPI(c3)
	c3.must(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2", Addresses: addrs("10.0.0.21")}})
	r = c3.must(Command{Op: OpSwitch, Name: api, Time: ts})
	if _, p := r.Service.PendingRetire(); !p {
		t.Fatal("switch of an unguarded service does not wait for confirmation")
	}
	c3.must(Command{Op: OpComplete, Name: api, Time: ts})
}

func TestIfState(t *testing.T) {
	c := newChain(t)
	putAPI(c)
	wantConflict(t, c.apply(Command{Op: OpRollback, Name: api, IfState: PhaseValidating}), "not validating")
	if r := c.apply(Command{Op: OpRollback, Name: api, IfState: "odd"}); r.Err == nil || r.Err.Code != CodeInvalid {
		t.Fatalf("%+v", r.Err)
	}
}
