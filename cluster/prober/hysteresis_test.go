package prober

import (
	"net/netip"
	"testing"

	"github.com/bgdns/bgdns/control"
)

func TestRiseFallHysteresis(t *testing.T) {
	p := New(fakeNode{}, Options{})
	k := key{svcName, netip.MustParseAddr("127.0.0.1")}
	tg := &target{hc: control.HealthCheck{Rise: 2, Fall: 3}}
	p.targets[k] = tg
	steps := []struct {
		ok   bool
		want control.HealthStatus
	}{
		{true, control.HealthUnknown}, // one success is not rise 2
		{false, control.HealthUnknown},
		{true, control.HealthUnknown},
		{true, control.HealthUp},
		{false, control.HealthUp},
		{false, control.HealthUp},
		{true, control.HealthUp}, // the failure run is broken
		{false, control.HealthUp},
		{false, control.HealthUp},
		{false, control.HealthDown},
		{true, control.HealthDown},
		{true, control.HealthUp},
	}
	for i, s := range steps {
		tg.inflight = true
		p.record(result{key: k, gen: p.gen, ok: s.ok, detail: "x"})
		if tg.status != s.want || tg.inflight {
			t.Fatalf("step %d (ok=%v): status %q inflight %v, want %q", i, s.ok, tg.status, tg.inflight, s.want)
		}
	}
	// a result from before a leadership change is dropped
	p.gen++
	p.record(result{key: k, gen: p.gen - 1, ok: false})
	p.record(result{key: k, gen: p.gen - 1, ok: false})
	p.record(result{key: k, gen: p.gen - 1, ok: false})
	if tg.status != control.HealthUp {
		t.Fatal("a stale result was counted")
	}
}
