package api

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
)

const checkedSvcBody = `{"ttl":5,"blue":{"version":"1.0","addresses":["10.0.0.11"]},
 "green":{"version":"2.0","addresses":["10.0.0.21","10.0.0.22"]},
 "health_check":{"type":"http","port":8081,"path":"/healthz","interval":"1s","timeout":"500ms","rise":2,"fall":2},
 "validation":{"window":"5m","auto_rollback":true},"min_healthy":1,"min_switch_interval":"1m"}`

func TestServiceHealthFieldsAndGate(t *testing.T) {
	e := newEnv(t, Options{})
	e.mutation("PUT", "/v1/zones/bg.example.com", zoneBody)
	m := e.mutation("PUT", "/v1/services/api.bg.example.com", checkedSvcBody)
	s := m.Service
	if s.HealthCheck == nil || s.HealthCheck.Interval.D() != time.Second || s.Validation == nil ||
		s.Validation.Window.D() != 5*time.Minute || s.MinHealthy != 1 || s.MinSwitchInterval.D() != time.Minute {
		t.Fatalf("put: %+v", s)
	}
	if s.Health == nil || s.Health.Green.Total != 2 || s.Health.Green.Healthy != 0 || s.Health.Green.Addresses[0].Status != "unknown" {
		t.Fatalf("health view: %+v", s.Health)
	}

	// the gate: 409 with the reason, then forced with a reason
	r := e.must(http.StatusConflict, "POST", "/v1/services/api.bg.example.com/switch", `{}`)
	if d := errorOf(t, r); !strings.Contains(d.Message, "min_healthy") {
		t.Fatalf("gate message: %+v", d)
	}
	r = e.must(http.StatusUnprocessableEntity, "POST", "/v1/services/api.bg.example.com/switch", `{"force":true}`)
	if d := errorOf(t, r); !strings.Contains(d.Message, "force needs a reason") {
		t.Fatalf("force without reason: %+v", d)
	}

	// the prober's transition makes green healthy
	if _, err := e.b.Propose(context.Background(), control.Command{Op: control.OpHealth, Name: "api.bg.example.com.",
		Time: time.Now().UTC(), Actor: "bgdns", Health: &control.HealthSpec{Changes: []control.HealthChange{
			{Addr: netip.MustParseAddr("10.0.0.21"), Status: control.HealthUp, Detail: "http 200"}}}}); err != nil {
		t.Fatal(err)
	}
	var g Service
	e.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com", "").decode(t, &g)
	if g.Health.Green.Healthy != 1 || g.Health.Green.Addresses[0].Status != "up" || g.Health.Green.Addresses[0].Detail != "http 200" {
		t.Fatalf("health after transition: %+v", g.Health.Green)
	}
	m = e.mutation("POST", "/v1/services/api.bg.example.com/switch", `{"reason":"green healthy"}`)
	if m.Service.Active != "green" || m.Service.ValidatingUntil.IsZero() || m.Service.Retire == nil || m.Service.Retire.Safe {
		t.Fatalf("switch: %+v", m.Service)
	}
	// once every member confirmed the switch, the watermark is set
	e.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com", "").decode(t, &g)
	if g.SafeToRetireAt.IsZero() || g.Retire == nil || g.Retire.ConfirmedAt.IsZero() {
		t.Fatalf("after confirmation: %+v", g.ServiceStatus)
	}
	// complete before the watermark is refused, then forced
	e.must(http.StatusConflict, "POST", "/v1/services/api.bg.example.com/complete", ``)
	m = e.mutation("POST", "/v1/services/api.bg.example.com/complete", `{"force":true,"reason":"old colour already gone"}`)
	if m.Service.State != "stable" || !m.Service.Blue.Retired {
		t.Fatalf("forced complete: %+v", m.Service)
	}

	// a GET can be edited and put back, read-only fields included
	e.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com", "").decode(t, &g)
	body := string(e.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com", "").body)
	e.mutation("PUT", "/v1/services/api.bg.example.com", body)

	// bad bounds are 422, bad durations 400
	bad := strings.Replace(checkedSvcBody, `"interval":"1s"`, `"interval":"10ms"`, 1)
	r = e.must(http.StatusUnprocessableEntity, "PUT", "/v1/services/api.bg.example.com", bad)
	if d := errorOf(t, r); !strings.Contains(d.Message, "interval") {
		t.Fatalf("%+v", d)
	}
	e.must(http.StatusBadRequest, "PUT", "/v1/services/api.bg.example.com",
		strings.Replace(checkedSvcBody, `"interval":"1s"`, `"interval":1`, 1))
}

func TestFreezeEndpoints(t *testing.T) {
	e := newEnv(t, Options{})
	e.seed()
	e.mutation("POST", "/v1/services/api.bg.example.com/deploy", `{"version":"2.0","addresses":["10.0.0.21"]}`)

	m := e.mutation("POST", "/v1/zones/bg.example.com/freeze", `{"reason":"holiday freeze"}`)
	if m.Zone == nil || !m.Zone.Frozen {
		t.Fatalf("zone freeze: %+v", m.Zone)
	}
	r := e.must(http.StatusConflict, "POST", "/v1/services/api.bg.example.com/switch", ``)
	if d := errorOf(t, r); !strings.Contains(d.Message, "zone bg.example.com is frozen") {
		t.Fatalf("%+v", d)
	}
	e.mutation("POST", "/v1/zones/bg.example.com/unfreeze", ``)

	m = e.mutation("POST", "/v1/services/api.bg.example.com/freeze", ``)
	if !m.Service.Frozen {
		t.Fatalf("service freeze: %+v", m.Service)
	}
	e.must(http.StatusConflict, "POST", "/v1/services/api.bg.example.com/switch", ``)
	m = e.mutation("POST", "/v1/services/api.bg.example.com/switch", `{"force":true,"reason":"incident 7"}`)
	var h History
	e.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com/history", "").decode(t, &h)
	if !h.Records[0].Override || h.Records[0].Action != control.OpSwitch {
		t.Fatalf("override not recorded: %+v", h.Records[0])
	}
	e.must(http.StatusNotFound, "POST", "/v1/services/nope.bg.example.com/freeze", ``)
	e.must(http.StatusNotFound, "POST", "/v1/zones/nope.example.com/unfreeze", ``)
}
