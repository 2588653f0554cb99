package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bgdns/bgdns/control"
)

// TestZoneNSAuto: "ns":"auto" reaches the state machine as NSAuto with no
// NS of its own (the cluster's leader fills them in; this fake backend
// has no members with NS names, so Apply refuses it); any other string,
// or glue beside it, is refused at the API.
func TestZoneNSAuto(t *testing.T) {
	e := newEnv(t, Options{})
	er := errorOf(t, e.must(http.StatusUnprocessableEntity, "PUT", "/v1/zones/auto.test", `{"ns":"auto"}`))
	if !strings.Contains(er.Message, "NS name") {
		t.Fatalf("auto zone without member NS names: %+v", er)
	}
	ps := e.b.Proposals()
	if len(ps) == 0 {
		t.Fatal("nothing proposed")
	}
	if last := ps[len(ps)-1]; last.Op != control.OpZonePut || last.Zone == nil || !last.Zone.NSAuto || len(last.Zone.NS) != 0 {
		t.Fatalf("proposed %+v", last)
	}
	errorOf(t, e.must(http.StatusBadRequest, "PUT", "/v1/zones/auto.test", `{"ns":"automatic"}`))
	errorOf(t, e.must(http.StatusBadRequest, "PUT", "/v1/zones/auto.test", `{"ns":7}`))
	errorOf(t, e.must(http.StatusUnprocessableEntity, "PUT", "/v1/zones/auto.test", `{"ns":"auto","glue":{"ns1.auto.test":["192.0.2.1"]}}`))
	// A list is still a list.
	m := e.mutation("PUT", "/v1/zones/list.test", `{"ns":["ns.example.net"]}`)
	if m.Zone == nil || m.Zone.NSAuto || len(m.Zone.NS) != 1 {
		t.Fatalf("zone with a list of NS: %+v", m.Zone)
	}
}

func TestNSNamesJSON(t *testing.T) {
	for _, tc := range []struct {
		in   NSNames
		want string
	}{
		{NSNames{NSAuto}, `"auto"`},
		{NSNames{"ns1.example.net"}, `["ns1.example.net"]`},
		{NSNames{"a.example", "auto"}, `["a.example","auto"]`},
	} {
		b, err := json.Marshal(tc.in)
		if err != nil || string(b) != tc.want {
			t.Errorf("%v: %s %v, want %s", tc.in, b, err, tc.want)
		}
		var back NSNames
		if err := json.Unmarshal(b, &back); err != nil || len(back) != len(tc.in) || back.Auto() != tc.in.Auto() {
			t.Errorf("%s back: %v %v", b, back, err)
		}
	}
}
