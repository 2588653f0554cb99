package control

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var httpCheck = &HealthCheck{Type: "http", Port: 8081, Path: "/healthz", Interval: Duration(time.Second), Rise: 1, Fall: 1}

// putChecked creates api with a health check (min_healthy 1) and deploys
// green 10.0.0.21, 10.0.0.22.
func putChecked(c *chain, mod func(*ServiceSpec)) *Service {
	c.t.Helper()
	hc := *httpCheck
	sp := &ServiceSpec{TTL: 5, HealthCheck: &hc,
		Blue: &Pool{Version: "1.0", Addresses: addrs("10.0.0.11", "10.0.0.12")}}
	if mod != nil {
		mod(sp)
	}
	c.must(Command{Op: OpServicePut, Name: api, Service: sp})
	return c.must(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2.0", Addresses: addrs("10.0.0.21", "10.0.0.22")}}).Service
}

func health(pairs ...string) *HealthSpec {
	h := &HealthSpec{}
	for i := 0; i+1 < len(pairs); i += 2 {
		h.Changes = append(h.Changes, HealthChange{Addr: netip.MustParseAddr(pairs[i]), Status: HealthStatus(pairs[i+1])})
	}
	return h
}

func TestHealthCheckNormalize(t *testing.T) {
	hc := func(f func(*HealthCheck)) *HealthCheck {
		h := &HealthCheck{Type: "http", Port: 80}
		f(h)
		return h
	}
	cases := []struct {
		name string
		sp   func(*ServiceSpec)
		msg  string
	}{
		{"no type", func(s *ServiceSpec) { s.HealthCheck = hc(func(h *HealthCheck) { h.Type = "" }) }, "type is required"},
		{"bad type", func(s *ServiceSpec) { s.HealthCheck = hc(func(h *HealthCheck) { h.Type = "icmp" }) }, "unknown"},
		{"no port", func(s *ServiceSpec) { s.HealthCheck = hc(func(h *HealthCheck) { h.Port = 0 }) }, "port"},
		{"interval too short", func(s *ServiceSpec) {
			s.HealthCheck = hc(func(h *HealthCheck) { h.Interval = Duration(50 * time.Millisecond) })
		}, "interval"},
		{"timeout not below interval", func(s *ServiceSpec) {
			s.HealthCheck = hc(func(h *HealthCheck) { h.Interval, h.Timeout = Duration(time.Second), Duration(time.Second) })
		}, "timeout"},
		{"rise 11", func(s *ServiceSpec) { s.HealthCheck = hc(func(h *HealthCheck) { h.Rise = 11 }) }, "rise"},
		{"fall negative", func(s *ServiceSpec) { s.HealthCheck = hc(func(h *HealthCheck) { h.Fall = -1 }) }, "fall"},
		{"path without slash", func(s *ServiceSpec) { s.HealthCheck = hc(func(h *HealthCheck) { h.Path = "healthz" }) }, "path"},
		{"bad status", func(s *ServiceSpec) { s.HealthCheck = hc(func(h *HealthCheck) { h.ExpectStatus = 99 }) }, "expect_status"},
		{"tcp with path", func(s *ServiceSpec) {
			s.HealthCheck = hc(func(h *HealthCheck) { h.Type, h.Path = "tcp", "/x" })
		}, "http checks only"},
		{"window too long", func(s *ServiceSpec) {
			s.HealthCheck = hc(func(*HealthCheck) {})
			s.Validation = &Validation{Window: Duration(25 * time.Hour)}
		}, "window"},
		{"window zero", func(s *ServiceSpec) { s.Validation = &Validation{} }, "window"},
		{"auto rollback without check", func(s *ServiceSpec) {
			s.Validation = &Validation{Window: Duration(time.Minute), AutoRollback: true}
		}, "needs a health_check"},
		{"min_healthy without check", func(s *ServiceSpec) { s.MinHealthy = 1 }, "needs a health_check"},
		{"fail_closed without check", func(s *ServiceSpec) { s.FailClosed = true }, "needs a health_check"},
		{"min_healthy too big", func(s *ServiceSpec) { s.HealthCheck = hc(func(*HealthCheck) {}); s.MinHealthy = 65 }, "min_healthy"},
		{"negative interval", func(s *ServiceSpec) { s.MinSwitchInterval = Duration(-time.Second) }, "min_switch_interval"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t)
			sp := &ServiceSpec{Blue: &Pool{Version: "1", Addresses: addrs("10.0.0.1")}}
			tc.sp(sp)
			r := c.apply(Command{Op: OpServicePut, Name: api, Service: sp})
			if r.Err == nil || r.Err.Code != CodeInvalid || !strings.Contains(r.Err.Message, tc.msg) {
				t.Fatalf("want 422 mentioning %q, got %+v", tc.msg, r.Err)
			}
		})
	}

	c := newChain(t)
	r := c.must(Command{Op: OpServicePut, Name: api, Service: &ServiceSpec{
		HealthCheck: &HealthCheck{Type: "HTTP", Port: 80}, Blue: &Pool{Version: "1", Addresses: addrs("10.0.0.1")}}})
	h := r.Service.HealthCheck
	if h.Type != "http" || h.Path != "/" || h.Interval.D() != time.Second || h.Timeout.D() != 500*time.Millisecond ||
		h.Rise != 2 || h.Fall != 2 || r.Service.MinHealthy != 1 {
		t.Fatalf("defaults: %+v min_healthy %d", h, r.Service.MinHealthy)
	}
}

func TestDurationJSON(t *testing.T) {
	var v Validation
	if err := json.Unmarshal([]byte(`{"window":"5m","auto_rollback":true}`), &v); err != nil || v.Window.D() != 5*time.Minute {
		t.Fatalf("%v %+v", err, v)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"window":"5m0s","auto_rollback":true}` {
		t.Fatalf("marshal: %s", b)
	}
	for _, bad := range []string{`{"window":300}`, `{"window":"5 minutes"}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestAnswerAddrsHealth(t *testing.T) {
	for _, failClosed := range []bool{false, true} {
		c := newChain(t)
		putChecked(c, func(sp *ServiceSpec) { sp.FailClosed = failClosed })
		svc := c.s.Service(api)
		if got := svc.AnswerAddrs(Blue); len(got) != 2 {
			t.Fatalf("unprobed addresses are served: %v", got)
		}
		svc = c.must(Command{Op: OpHealth, Name: api, Health: health("10.0.0.11", "down", "10.0.0.12", "up")}).Service
		if got := svc.AnswerAddrs(Blue); len(got) != 1 || got[0].String() != "10.0.0.12" {
			t.Fatalf("only the healthy address: %v", got)
		}
		if n := svc.HealthOf(Blue); n.Healthy != 1 || n.Down != 1 || n.Total != 2 {
			t.Fatalf("counts: %+v", n)
		}
		svc = c.must(Command{Op: OpHealth, Name: api, Health: health("10.0.0.12", "down")}).Service
		got := svc.AnswerAddrs(Blue)
		if failClosed && got != nil {
			t.Fatalf("fail_closed with every address down: %v, want none", got)
		}
		if !failClosed && len(got) != 2 {
			t.Fatalf("fail open with every address down: %v, want all", got)
		}
		if got := svc.AnswerAddrs(Green); len(got) != 2 {
			t.Fatalf("green untouched: %v", got)
		}
	}
	// without a health check nothing is filtered
	c := newChain(t)
	if got := putAPI(c).Service.AnswerAddrs(Blue); len(got) != 2 {
		t.Fatalf("%v", got)
	}
}

func TestHealthOpIdempotent(t *testing.T) {
	c := newChain(t)
	putChecked(c, nil)
	r := c.must(Command{Op: OpHealth, Name: api, Actor: "bgdns", Health: health("10.0.0.21", "up")})
	rev := r.Service.Revision
	if r.Service.Health[netip.MustParseAddr("10.0.0.21")].Status != HealthUp || rev != r.Index {
		t.Fatalf("after health: %+v", r.Service)
	}
	recs, _ := c.s.History(api, 0)
	n := len(recs)
	if recs[0].Action != OpHealth || !strings.Contains(recs[0].Reason, "10.0.0.21 up") {
		t.Fatalf("health record: %+v", recs[0])
	}
	// the same transition again, and one for an address in no pool
	r = c.must(Command{Op: OpHealth, Name: api, Health: health("10.0.0.21", "up", "10.9.9.9", "down")})
	if r.Service.Revision != rev {
		t.Fatalf("a repeated transition moved the revision %d -> %d", rev, r.Service.Revision)
	}
	if recs, _ := c.s.History(api, 0); len(recs) != n {
		t.Fatalf("a repeated transition was recorded")
	}
	if _, ok := c.s.Service(api).Health[netip.MustParseAddr("10.9.9.9")]; ok {
		t.Fatal("health kept for an address in no pool")
	}
	// errors
	for _, cmd := range []Command{
		{Op: OpHealth, Name: api},
		{Op: OpHealth, Name: api, Health: &HealthSpec{}},
		{Op: OpHealth, Name: api, Health: health("10.0.0.21", "sideways")},
		{Op: OpHealth, Name: api, Health: health("10.0.0.21", "up", "10.0.0.21", "down")},
	} {
		if r := c.apply(cmd); r.Err == nil {
			t.Errorf("%+v accepted", cmd.Health)
		}
	}
	c2 := newChain(t)
	putAPI(c2)
	if r := c2.apply(Command{Op: OpHealth, Name: api, Health: health("10.0.0.11", "up")}); r.Err == nil || r.Err.Code != CodeConflict {
		t.Fatalf("health of a service without a check: %+v", r.Err)
	}
	// a deploy starts the new pool unprobed; a put with the same probe keeps health
	c.must(Command{Op: OpHealth, Name: api, Health: health("10.0.0.11", "up")})
	svc := c.must(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "3", Addresses: addrs("10.0.0.21")}}).Service
	if _, ok := svc.Health[netip.MustParseAddr("10.0.0.21")]; ok || svc.Health[netip.MustParseAddr("10.0.0.11")].Status != HealthUp {
		t.Fatalf("after deploy: %+v", svc.Health)
	}
}

func TestSnapshotKeepsSafetyFields(t *testing.T) {
	c := newChain(t)
	putChecked(c, func(sp *ServiceSpec) {
		sp.Validation = &Validation{Window: Duration(time.Minute), AutoRollback: true}
		sp.MinSwitchInterval = Duration(time.Minute)
	})
	c.must(Command{Op: OpHealth, Name: api, Health: health("10.0.0.21", "up", "10.0.0.22", "down")})
	c.must(Command{Op: OpSwitch, Name: api})
	b, err := MarshalState(c.s)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := UnmarshalState(b)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(c.s.Service(api))
	z, _ := json.Marshal(s2.Service(api))
	if string(a) != string(z) {
		t.Fatalf("snapshot changed the service:\n%s\n%s", a, z)
	}
	if !strings.Contains(string(a), `"min_switch_interval":"1m0s"`) || !strings.Contains(string(a), `"10.0.0.22":{"status":"down"`) {
		t.Fatalf("json: %s", a)
	}
}

func TestHealthCheckPortRange(t *testing.T) {
	for _, port := range []int{0, -1, 65536} {
		c := newChain(t)
		r := c.apply(Command{Op: OpServicePut, Name: api, Service: &ServiceSpec{
			HealthCheck: &HealthCheck{Type: "tcp", Port: port}, Blue: &Pool{Version: "1", Addresses: addrs("10.0.0.1")}}})
		if r.Err == nil || r.Err.Code != CodeInvalid || !strings.Contains(r.Err.Message, "port") {
			t.Fatalf("port %d: %+v", port, r.Err)
		}
	}
}
