package prober

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
)

// A switch to a colour with no healthy address is refused; once one of its
// backends comes up (and passes rise), the same switch is accepted, and the
// live answer holds only the healthy address.
func TestSwitchRefusedThenAcceptedOnceHealthy(t *testing.T) {
	port, bk := newBackends(t, true, "127.0.0.1", "127.0.0.2", "127.0.0.3")
	bk[1].down()
	bk[2].down()
	c := newFakeCluster(t, "n1")
	c.must(t, control.Command{Op: control.OpServicePut, Name: svcName, Service: &control.ServiceSpec{
		HealthCheck: fastHTTPCheck(port), Blue: &control.Pool{Version: "1.0", Addresses: addrs("127.0.0.1")}}})
	c.must(t, control.Command{Op: control.OpDeploy, Name: svcName,
		Deploy: &control.DeploySpec{Version: "2.0", Addresses: addrs("127.0.0.2", "127.0.0.3")}})
	startProber(t, c.node("n1"))

	eventually(t, "blue up, green down", func() bool {
		return healthOf(c, control.Blue).Healthy == 1 && healthOf(c, control.Green).Down == 2
	})
	if d := statusOf(c, "127.0.0.2").Detail; !strings.Contains(d, "refused") {
		t.Errorf("detail of a closed port: %q", d)
	}
	r := c.do(control.Command{Op: control.OpSwitch, Name: svcName, Reason: "2.0 ready?"})
	if r.Err == nil || r.Err.Code != control.CodeConflict || !strings.Contains(r.Err.Message, "green has 0 of 2 addresses healthy") {
		t.Fatalf("switch to an unhealthy colour: %+v", r.Err)
	}

	bk[1].up()
	eventually(t, "green 127.0.0.2 up", func() bool { return statusOf(c, "127.0.0.2").Status == control.HealthUp })
	r = c.must(t, control.Command{Op: control.OpSwitch, Name: svcName, Reason: "2.0 healthy"})
	if r.Service.Active != control.Green {
		t.Fatalf("%+v", r.Service)
	}
	if got := r.Service.AnswerAddrs(control.Green); len(got) != 1 || got[0].String() != "127.0.0.2" {
		t.Fatalf("live answer: %v, want only the healthy 127.0.0.2", got)
	}
	// transitions only: one health record per address change, not per probe
	for _, rec := range historyOf(c, control.OpHealth) {
		if rec.Actor != DefaultActor {
			t.Errorf("health record by %q", rec.Actor)
		}
	}
	// blue up, green .2 and .3 down, .2 up
	if n := transitions(c); n != 4 {
		t.Errorf("%d transitions committed, want 4: %+v", n, historyOf(c, control.OpHealth))
	}
}

// The new colour fails inside the validation window: bgdns rolls back by
// itself, once, and says why.
func TestAutoRollbackInsideWindow(t *testing.T) {
	port, bk := newBackends(t, true, "127.0.0.1", "127.0.0.2")
	c := newFakeCluster(t, "n1")
	c.must(t, control.Command{Op: control.OpServicePut, Name: svcName, Service: &control.ServiceSpec{
		HealthCheck: fastHTTPCheck(port), MinHealthy: 1,
		Validation: &control.Validation{Window: control.Duration(time.Minute), AutoRollback: true},
		Blue:       &control.Pool{Version: "1.0", Addresses: addrs("127.0.0.1")},
		Green:      &control.Pool{Version: "2.0", Addresses: addrs("127.0.0.2")}}})
	logs := &lockedBuffer{}
	startProberLog(t, c.node("n1"), slog.New(slog.NewJSONHandler(logs, nil)))
	eventually(t, "green up", func() bool { return healthOf(c, control.Green).Healthy == 1 })
	c.must(t, control.Command{Op: control.OpSwitch, Name: svcName})

	bk[1].status.Store(503)
	eventually(t, "rollback to blue", func() bool { return c.service().Active == control.Blue })
	svc := c.service()
	if svc.State != control.PhaseRolledBack {
		t.Fatalf("state %s", svc.State)
	}
	if got := svc.AnswerAddrs(svc.Active); len(got) != 1 || got[0].String() != "127.0.0.1" {
		t.Fatalf("live answer after rollback: %v", got)
	}
	rb := historyOf(c, control.OpRollback)
	if len(rb) != 1 {
		t.Fatalf("%d rollbacks", len(rb))
	}
	if rb[0].Actor != "bgdns" || !strings.Contains(rb[0].Reason, "validation of green 2.0 failed") ||
		!strings.Contains(rb[0].Reason, "127.0.0.2") || !strings.Contains(rb[0].Reason, "http 503") {
		t.Fatalf("rollback record: %+v", rb[0])
	}
	// and it logs the one change line of a rollback, and one per health
	// transition it committed
	changes := func(action string) []map[string]any { return changeLines(logs, action) }
	eventually(t, "the change line", func() bool { return len(changes("rollback")) > 0 })
	line := changes("rollback")[0]
	want := map[string]any{"level": "INFO", "action": "rollback", "service": strings.TrimSuffix(svcName, "."), "from": "green", "to": "blue",
		"index": float64(rb[0].Index), "actor": "bgdns", "reason": rb[0].Reason}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("change line: %s is %v, want %v (%v)", k, line[k], v, line)
		}
	}
	if n := len(changes("rollback")); n != 1 {
		t.Errorf("%d rollback change lines, want 1", n)
	}
	health := changes("health")
	var down map[string]any
	for _, h := range health {
		if h["addr"] == "127.0.0.2" && h["to"] == "down" {
			down = h
		}
	}
	if down == nil || down["from"] != "up" || down["actor"] != "bgdns" || down["service"] != strings.TrimSuffix(svcName, ".") {
		t.Fatalf("no change line for 127.0.0.2 going down: %v", health)
	}
	// one line per address that changed, at the index of the health
	// record its entry wrote
	lineAt := map[float64]bool{}
	for _, h := range health {
		lineAt[h["index"].(float64)] = true
	}
	recs := historyOf(c, control.OpHealth)
	for _, rec := range recs {
		if !lineAt[float64(rec.Index)] {
			t.Errorf("no health change line at index %d (%+v)", rec.Index, rec)
		}
	}
	if len(lineAt) != len(recs) {
		t.Errorf("health change lines at %d indexes for %d health records", len(lineAt), len(recs))
	}
}

// lockedBuffer collects log output written from the prober's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A window that passes ends in stable (validated); complete is then held
// back by the retire watermark.
func TestValidationWindowEnds(t *testing.T) {
	port, _ := newBackends(t, false, "127.0.0.1", "127.0.0.2")
	c := newFakeCluster(t, "n1")
	hc := &control.HealthCheck{Type: "tcp", Port: port, Interval: control.Duration(100 * time.Millisecond), Rise: 1, Fall: 1}
	c.must(t, control.Command{Op: control.OpServicePut, Name: svcName, Service: &control.ServiceSpec{
		HealthCheck: hc,
		Validation:  &control.Validation{Window: control.Duration(300 * time.Millisecond), AutoRollback: true},
		Blue:        &control.Pool{Version: "1.0", Addresses: addrs("127.0.0.1")},
		Green:       &control.Pool{Version: "2.0", Addresses: addrs("127.0.0.2")}}})
	logs := &lockedBuffer{}
	startProberLog(t, c.node("n1"), slog.New(slog.NewJSONHandler(logs, nil)))
	eventually(t, "green up", func() bool { return healthOf(c, control.Green).Healthy == 1 })
	sw := c.must(t, control.Command{Op: control.OpSwitch, Name: svcName}).Service
	if sw.State != control.PhaseValidating || sw.ValidatingUntil.IsZero() {
		t.Fatalf("after switch: %+v", sw)
	}
	eventually(t, "validated", func() bool { return c.service().State == control.PhaseStable })
	svc := c.service()
	if svc.Active != control.Green || svc.Previous != control.Blue || svc.ValidatedAt.Before(sw.ValidatingUntil) {
		t.Fatalf("after the window: %+v", svc)
	}
	v := historyOf(c, control.OpValidated)
	if len(v) != 1 || v[0].Actor != "bgdns" {
		t.Fatalf("validated records: %+v", v)
	}
	eventually(t, "the validated change line", func() bool { return len(changeLines(logs, "validated")) == 1 })
	if l := changeLines(logs, "validated")[0]; l["from"] != "validating" || l["to"] != "stable" || l["actor"] != "bgdns" ||
		l["index"] != float64(v[0].Index) || l["active"] != "green" {
		t.Errorf("validated change line: %v", l)
	}
	r := c.do(control.Command{Op: control.OpComplete, Name: svcName})
	if r.Err == nil || !strings.Contains(r.Err.Message, "not every node has confirmed") {
		t.Fatalf("complete before every node confirmed the switch: %+v", r.Err)
	}
	// what the leader commits once every member applied the switch
	conf := time.Now().UTC()
	svc = c.must(t, control.Command{Op: control.OpRetireConfirmed, Name: svcName, Time: conf,
		Retire: &control.RetireSpec{SwitchIndex: svc.SwitchIndex, ConfirmedAt: conf}}).Service
	r = c.do(control.Command{Op: control.OpComplete, Name: svcName})
	if r.Err == nil || !strings.Contains(r.Err.Message, "safe_to_retire_at") {
		t.Fatalf("complete before the watermark: %+v", r.Err)
	}
	c.must(t, control.Command{Op: control.OpComplete, Name: svcName, Time: svc.SafeToRetireAt})
}

// TCP checks, fail-closed answers, and a wrong Host header counting as down.
func TestTCPFailClosedAndHTTPHost(t *testing.T) {
	port, bk := newBackends(t, false, "127.0.0.1", "127.0.0.2")
	c := newFakeCluster(t, "n1")
	hc := &control.HealthCheck{Type: "tcp", Port: port, Interval: control.Duration(100 * time.Millisecond), Rise: 1, Fall: 2}
	c.must(t, control.Command{Op: control.OpServicePut, Name: svcName, Service: &control.ServiceSpec{
		HealthCheck: hc, FailClosed: true,
		Blue: &control.Pool{Version: "1.0", Addresses: addrs("127.0.0.1", "127.0.0.2")}}})
	startProber(t, c.node("n1"))
	eventually(t, "blue up", func() bool { return healthOf(c, control.Blue).Healthy == 2 })
	bk[0].down()
	eventually(t, "one down", func() bool { return healthOf(c, control.Blue).Down == 1 })
	if got := c.service().AnswerAddrs(control.Blue); len(got) != 1 || got[0].String() != "127.0.0.2" {
		t.Fatalf("answer with one down: %v", got)
	}
	bk[1].down()
	eventually(t, "NODATA when all are down (fail closed)", func() bool { return c.service().AnswerAddrs(control.Blue) == nil })
	bk[0].up()
	eventually(t, "back", func() bool { return len(c.service().AnswerAddrs(control.Blue)) == 1 })

	// http with a Host header
	hport, hb := newBackends(t, true, "127.0.0.3")
	hb[0].host.Store("api.internal")
	hhc := fastHTTPCheck(hport)
	hhc.Host = "wrong.internal"
	spec := &control.ServiceSpec{HealthCheck: hhc, Blue: &control.Pool{Version: "1", Addresses: addrs("127.0.0.3")}}
	c.must(t, control.Command{Op: control.OpServicePut, Name: svcName, Service: spec})
	eventually(t, "wrong host is down", func() bool { return statusOf(c, "127.0.0.3").Status == control.HealthDown })
	if d := statusOf(c, "127.0.0.3").Detail; d != "http 421" {
		t.Fatalf("detail %q", d)
	}
	hhc2 := *hhc
	hhc2.Host = "api.internal"
	spec.HealthCheck = &hhc2
	c.must(t, control.Command{Op: control.OpServicePut, Name: svcName, Service: spec})
	eventually(t, "right host is up", func() bool { return statusOf(c, "127.0.0.3").Status == control.HealthUp })
}

// Several probers share one cluster and the leadership moves between them
// during the validation window: the failing colour is rolled back exactly
// once, transitions are not committed twice, and the rollback stays.
func TestLeaderChangeRollsBackOnce(t *testing.T) {
	port, bk := newBackends(t, true, "127.0.0.1", "127.0.0.2")
	c := newFakeCluster(t, "n1")
	c.must(t, control.Command{Op: control.OpServicePut, Name: svcName, Service: &control.ServiceSpec{
		HealthCheck: fastHTTPCheck(port),
		Validation:  &control.Validation{Window: control.Duration(time.Minute), AutoRollback: true},
		Blue:        &control.Pool{Version: "1.0", Addresses: addrs("127.0.0.1")},
		Green:       &control.Pool{Version: "2.0", Addresses: addrs("127.0.0.2")}}})
	for _, id := range []string{"n1", "n2", "n3"} {
		startProber(t, c.node(id))
	}
	eventually(t, "both up", func() bool {
		return healthOf(c, control.Green).Healthy == 1 && healthOf(c, control.Blue).Healthy == 1
	})
	c.must(t, control.Command{Op: control.OpSwitch, Name: svcName})
	c.setLeader("n2") // a leader change inside the window
	bk[1].down()
	eventually(t, "rollback", func() bool { return c.service().Active == control.Blue })
	c.setLeader("n3")
	// prove n3 probes: green comes back and n3 commits it
	bk[1].up()
	eventually(t, "green up again", func() bool { return statusOf(c, "127.0.0.2").Status == control.HealthUp })
	c.setLeader("n1")
	bk[1].down()
	eventually(t, "green down again", func() bool { return statusOf(c, "127.0.0.2").Status == control.HealthDown })

	if rb := historyOf(c, control.OpRollback); len(rb) != 1 {
		t.Fatalf("%d rollbacks: %+v", len(rb), rb)
	}
	if svc := c.service(); svc.Active != control.Blue || svc.State != control.PhaseRolledBack {
		t.Fatalf("the rollback did not stay: %+v", svc)
	}
	// green: up, down, up, down -> 4 transitions; blue: 1
	if n := transitions(c); n != 5 {
		t.Fatalf("%d transitions committed, want 5: %+v", n, historyOf(c, control.OpHealth))
	}
}

// changeLines are the JSON log's change lines of one action.
func changeLines(logs *lockedBuffer, action string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "change" && m["action"] == action {
			out = append(out, m)
		}
	}
	return out
}
