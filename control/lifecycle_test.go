package control

import (
	"testing"
)

func TestLifecycleHappyPath(t *testing.T) {
	c := newChain(t)
	r := putAPI(c)
	svc := r.Service
	if svc.Active != Blue || svc.State != PhaseStable || svc.Revision != 2 {
		t.Fatalf("after put: %+v", svc)
	}
	if got := svc.AnswerAddrs(Blue); len(got) != 2 || got[0].String() != "10.0.0.11" {
		t.Fatalf("blue addresses not normalised and sorted: %v", got)
	}
	serial0 := c.s.Zone("bg.example.test.").Serial

	r = c.must(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2.0", Addresses: addrs("2001:db8::21", "10.0.0.21")}})
	if r.Service.State != PhaseDeployed || r.Service.Active != Blue || r.Service.Green.Version != "2.0" {
		t.Fatalf("after deploy: %+v", r.Service)
	}
	if p := r.Service.PreviewPool(); p == nil || p.Version != "2.0" {
		t.Fatalf("preview pool after deploy: %+v", p)
	}

	r = c.must(Command{Op: OpSwitch, Name: api, Reason: "2.0 passed tests"})
	if r.Service.Active != Green || r.Service.Previous != Blue || r.Service.State != PhaseValidating {
		t.Fatalf("after switch: %+v", r.Service)
	}
	if r.Service.Revision != r.Index {
		t.Fatalf("revision %d is not the raft index %d", r.Service.Revision, r.Index)
	}

	r = c.must(Command{Op: OpRollback, Name: api})
	if r.Service.Active != Blue || r.Service.State != PhaseRolledBack || r.Service.Previous != "" {
		t.Fatalf("after rollback: %+v", r.Service)
	}

	r = c.must(Command{Op: OpComplete, Name: api})
	if r.Service.State != PhaseStable || !r.Service.Green.Retired || r.Service.Blue.Retired {
		t.Fatalf("after complete: %+v", r.Service)
	}
	if r.Service.PreviewPool() != nil {
		t.Fatal("a retired colour is still offered as preview")
	}
	if z := c.s.Zone("bg.example.test."); z.Serial <= serial0 {
		t.Fatalf("serial did not move on: %d <= %d", z.Serial, serial0)
	}

	recs, ok := c.s.History(api, 0)
	if !ok || len(recs) != 5 {
		t.Fatalf("history: %d records (%v)", len(recs), ok)
	}
	wantOps := []Op{OpComplete, OpRollback, OpSwitch, OpDeploy, OpServicePut}
	for i, op := range wantOps {
		if recs[i].Action != op {
			t.Errorf("record %d: action %s, want %s", i, recs[i].Action, op)
		}
		if recs[i].Actor != "test" || recs[i].Index == 0 || recs[i].Time.IsZero() {
			t.Errorf("record %d incomplete: %+v", i, recs[i])
		}
	}
	if recs[2].From != "blue" || recs[2].To != "green" || recs[2].Reason != "2.0 passed tests" || recs[2].Version != "2.0" {
		t.Errorf("switch record: %+v", recs[2])
	}
}

func TestSwitchThenCompleteRetiresOldColour(t *testing.T) {
	c := newChain(t)
	putAPI(c)
	c.must(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2.0", Addresses: addrs("10.0.0.21")}})
	c.must(Command{Op: OpSwitch, Name: api, To: Green})
	r := c.must(Command{Op: OpComplete, Name: api})
	if r.Service.Active != Green || !r.Service.Blue.Retired {
		t.Fatalf("after complete: %+v", r.Service)
	}
	// the retired blue is the slot for the next deploy
	r = c.must(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "3.0", Addresses: addrs("10.0.0.31")}})
	if r.Service.Blue.Version != "3.0" || r.Service.Blue.Retired || r.Service.State != PhaseDeployed {
		t.Fatalf("deploy onto the retired colour: %+v", r.Service)
	}
	r = c.must(Command{Op: OpSwitch, Name: api})
	if r.Service.Active != Blue {
		t.Fatalf("switch to the idle colour by default: %+v", r.Service)
	}
}

func TestLifecycleErrors(t *testing.T) {
	deploy2 := &DeploySpec{Version: "2.0", Addresses: addrs("10.0.0.21")}
	cases := []struct {
		name  string
		setup []Command
		cmd   Command
		code  Code
	}{
		{"deploy unknown service", nil, Command{Op: OpDeploy, Name: "nope.bg.example.test", Deploy: deploy2}, CodeNotFound},
		{"switch unknown service", nil, Command{Op: OpSwitch, Name: "nope.bg.example.test"}, CodeNotFound},
		{"rollback unknown service", nil, Command{Op: OpRollback, Name: "nope.bg.example.test"}, CodeNotFound},
		{"complete unknown service", nil, Command{Op: OpComplete, Name: "nope.bg.example.test"}, CodeNotFound},
		{"delete unknown service", nil, Command{Op: OpServiceDelete, Name: "nope.bg.example.test"}, CodeNotFound},
		{"bad colour", nil, Command{Op: OpSwitch, Name: api, To: "purple"}, CodeInvalid},
		{"switch to active colour", nil, Command{Op: OpSwitch, Name: api, To: Blue}, CodeConflict},
		{"switch to empty pool", nil, Command{Op: OpSwitch, Name: api}, CodeConflict},
		{"deploy with no addresses", nil, Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2.0"}}, CodeInvalid},
		{"deploy without version", nil, Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Addresses: addrs("10.0.0.1")}}, CodeInvalid},
		{"deploy with bad version", nil, Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2 0", Addresses: addrs("10.0.0.1")}}, CodeInvalid},
		{"deploy duplicate address", nil, Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2", Addresses: addrs("10.0.0.1", "10.0.0.1")}}, CodeInvalid},
		{"deploy multicast address", nil, Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2", Addresses: addrs("224.0.0.1")}}, CodeInvalid},
		{"deploy missing body", nil, Command{Op: OpDeploy, Name: api}, CodeBadRequest},
		{"stale revision", nil, Command{Op: OpDeploy, Name: api, ExpectRevision: 1, Deploy: deploy2}, CodeConflict},
		{"rollback with nothing to roll back to", nil, Command{Op: OpRollback, Name: api}, CodeConflict},
		{"rollback twice", []Command{
			{Op: OpDeploy, Name: api, Deploy: deploy2}, {Op: OpSwitch, Name: api}, {Op: OpRollback, Name: api},
		}, Command{Op: OpRollback, Name: api}, CodeConflict},
		{"complete when stable", nil, Command{Op: OpComplete, Name: api}, CodeConflict},
		{"complete a deploy never switched", []Command{{Op: OpDeploy, Name: api, Deploy: deploy2}}, Command{Op: OpComplete, Name: api}, CodeConflict},
		{"deploy while validating", []Command{
			{Op: OpDeploy, Name: api, Deploy: deploy2}, {Op: OpSwitch, Name: api},
		}, Command{Op: OpDeploy, Name: api, Deploy: deploy2}, CodeConflict},
		{"switch while validating", []Command{
			{Op: OpDeploy, Name: api, Deploy: deploy2}, {Op: OpSwitch, Name: api},
		}, Command{Op: OpSwitch, Name: api}, CodeConflict},
		{"switch to retired colour", []Command{
			{Op: OpDeploy, Name: api, Deploy: deploy2}, {Op: OpSwitch, Name: api}, {Op: OpComplete, Name: api},
		}, Command{Op: OpSwitch, Name: api}, CodeConflict},
		{"unknown op", nil, Command{Op: "explode", Name: api}, CodeBadRequest},
		{"bad name", nil, Command{Op: OpSwitch, Name: "bad name!"}, CodeInvalid},
		{"reason too long", nil, Command{Op: OpSwitch, Name: api, Reason: string(make([]byte, MaxReasonLen+1))}, CodeInvalid},
		{"reason with control chars", nil, Command{Op: OpSwitch, Name: api, Reason: "a\x00b"}, CodeInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t)
			putAPI(c)
			for _, s := range tc.setup {
				c.must(s)
			}
			before := c.s
			r := c.apply(tc.cmd)
			if r.Err == nil {
				t.Fatalf("want %s, got success: %+v", tc.code, r.Service)
			}
			if r.Err.Code != tc.code {
				t.Fatalf("want %s, got %s (%s)", tc.code, r.Err.Code, r.Err.Message)
			}
			if c.s != before {
				t.Fatal("a failed command changed the state")
			}
			if tc.code == CodeConflict && tc.cmd.Name == api && r.Err.Service == nil {
				t.Fatal("a 409 on an existing service must carry its current state")
			}
		})
	}
}

func TestPreconditionMatchesRevision(t *testing.T) {
	c := newChain(t)
	rev := putAPI(c).Service.Revision
	r := c.must(Command{Op: OpDeploy, Name: api, ExpectRevision: rev,
		Deploy: &DeploySpec{Version: "2.0", Addresses: addrs("10.0.0.21")}})
	// the old revision no longer matches
	r2 := c.apply(Command{Op: OpSwitch, Name: api, ExpectRevision: rev})
	if r2.Err == nil || r2.Err.Code != CodeConflict || r2.Err.Service.Revision != r.Service.Revision {
		t.Fatalf("stale expect_revision: %+v", r2.Err)
	}
	c.must(Command{Op: OpSwitch, Name: api, ExpectRevision: r.Service.Revision})
}
