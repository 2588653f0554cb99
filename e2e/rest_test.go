package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

const (
	otherZone = "other.example.test."
	webName   = "web.other.example.test"
)

// TestLifecycleREST drives the lifecycle and the endpoints the CLI walk
// does not cover over raw HTTP against a real process: zones, the service
// list, delete, a stale expect_revision and a repeated request_id, each
// checked with dig.
func TestLifecycleREST(t *testing.T) {
	n := StartNode(t, NodeOptions{ID: "r1", Bootstrap: true})
	base := n.URL()

	// Liveness and readiness.
	Expect(t, http.StatusOK, "GET", base+"/healthz", nil)
	Expect(t, http.StatusOK, "GET", base+"/readyz", nil)

	// Zones: the bootstrap zone is listed; a second one is created with
	// SOA fields, NS names and glue, served over DNS, then deleted.
	if !zoneListed(t, base, testZone) {
		t.Fatalf("GET /v1/zones does not list %s", testZone)
	}
	zone := map[string]any{
		"soa": map[string]any{
			"mname": "ns1." + otherZone, "rname": "hostmaster." + otherZone,
			"minimum": 60, "ttl": 300,
		},
		"ns": []string{"ns1." + otherZone, "ns2." + otherZone},
		"glue": map[string][]string{
			"ns1." + otherZone: {"192.0.2.53", "2001:db8::53"},
			"ns2." + otherZone: {"192.0.2.54"},
		},
	}
	r := Call(t, "PUT", base+"/v1/zones/"+strings.TrimSuffix(otherZone, "."), zone)
	if r.Status != http.StatusOK && r.Status != http.StatusCreated {
		t.Fatalf("%s (want 200 or 201)", r)
	}
	if !zoneListed(t, base, otherZone) {
		t.Fatalf("GET /v1/zones does not list %s after PUT", otherZone)
	}
	var zj struct {
		Name   string              `json:"name"`
		Serial uint32              `json:"serial"`
		NS     []string            `json:"ns"`
		Glue   map[string][]string `json:"glue"`
	}
	Expect(t, http.StatusOK, "GET", base+"/v1/zones/"+strings.TrimSuffix(otherZone, "."), nil).Decode(t, &zj)
	if strings.TrimSuffix(zj.Name, ".") != strings.TrimSuffix(otherZone, ".") || zj.Serial == 0 ||
		len(zj.NS) != 2 || len(zj.Glue) != 2 {
		t.Fatalf("GET /v1/zones/%s: %+v", otherZone, zj)
	}
	soa := n.Dig(otherZone, "SOA")
	if soa.Status != "NOERROR" || !soa.HasFlag("aa") || len(soa.Values("SOA")) != 1 ||
		!strings.HasPrefix(soa.Values("SOA")[0], "ns1."+otherZone+" hostmaster."+otherZone) ||
		!strings.HasSuffix(soa.Values("SOA")[0], " 60") {
		t.Fatalf("SOA of the new zone\n%s", soa.Raw)
	}
	ns := n.Dig(otherZone, "NS")
	wantAddrs(t, "NS of the new zone", ns, "NS", 300, "ns1."+otherZone, "ns2."+otherZone)
	if g := ns.AdditionalValues("A"); strings.Join(g, ",") != "192.0.2.53,192.0.2.54" {
		t.Errorf("glue A in the additional section: %v\n%s", g, ns.Raw)
	}
	if g := ns.AdditionalValues("AAAA"); len(g) != 1 || g[0] != "2001:db8::53" {
		t.Errorf("glue AAAA in the additional section: %v\n%s", g, ns.Raw)
	}
	wantNegative(t, "unknown name in the new zone", n.Dig("nope."+otherZone, "A"), "NXDOMAIN", otherZone)

	// Services: create one in each zone with PUT; green active for web.
	api := map[string]any{"ttl": 5, "blue": map[string]any{"version": "1.0", "addresses": blueV4}}
	m := mutate(t, "PUT", base+"/v1/services/"+svcName, api)
	if m.Service.Name != svcName || m.Service.Active != "blue" || m.Service.State != "stable" {
		t.Fatalf("PUT service: %s", m.Raw)
	}
	web := map[string]any{
		"ttl":    30,
		"active": "green",
		"no_txt": true,
		"blue":   map[string]any{"version": "1.0", "addresses": []string{"192.0.2.10"}},
		"green":  map[string]any{"version": "1.1", "addresses": []string{"192.0.2.20", "2001:db8::20"}},
	}
	mutate(t, "PUT", base+"/v1/services/"+webName, web)
	wantAddrs(t, "web A (green active)", n.Dig(webName, "A"), "A", 30, "192.0.2.20")
	wantAddrs(t, "web AAAA (green active)", n.Dig(webName, "AAAA"), "AAAA", 30, "2001:db8::20")
	wantAddrs(t, "web preview (blue idle)", n.Dig("preview."+webName, "A"), "A", 30, "192.0.2.10")
	if a := n.Dig("_bgdns."+webName, "TXT"); len(a.TXT()) != 0 || (a.Status != "NOERROR" && a.Status != "NXDOMAIN") {
		t.Errorf("TXT of a service with no_txt: want none\n%s", a.Raw)
	}
	var cl struct {
		Leader struct {
			ID string `json:"id"`
		} `json:"leader"`
		Members []struct {
			ID      string `json:"id"`
			Applied uint64 `json:"applied_index"`
		} `json:"members"`
	}
	Expect(t, http.StatusOK, "GET", base+"/v1/cluster", nil).Decode(t, &cl)
	if cl.Leader.ID != "r1" || len(cl.Members) != 1 || cl.Members[0].ID != "r1" || cl.Members[0].Applied == 0 {
		t.Errorf("GET /v1/cluster on a single node: %+v", cl)
	}

	var list []ServiceJSON
	lr := Expect(t, http.StatusOK, "GET", base+"/v1/services", nil)
	if err := decodeList(lr.Body, &list, "services", "items"); err != nil {
		t.Fatalf("%s: %v", lr, err)
	}
	if len(list) != 2 || list[0].Name != svcName || list[1].Name != webName ||
		list[1].Active != "green" || list[1].Green == nil || list[1].Green.Version != "1.1" {
		t.Fatalf("GET /v1/services: %s", lr.Body)
	}

	// Deploy onto the idle colour, naming the actor in a header.
	before := GetService(t, base, svcName)
	dr, err := CallHeaders("POST", base+"/v1/services/"+svcName+"/deploy",
		map[string]any{"version": "2.0", "addresses": append(append([]string{}, greenV4...), greenV6...)},
		map[string]string{"X-Bgdns-Actor": "ci-pipeline"})
	if err != nil || dr.Status != http.StatusOK {
		t.Fatalf("deploy: %v %s", err, dr)
	}
	if m, err = decodeMutation(dr.Body); err != nil || m.Index == 0 || m.Service.State != "deployed" ||
		m.Service.Green == nil || m.Service.Green.Version != "2.0" {
		t.Fatalf("deploy: %v %s", err, dr)
	}
	if h := GetHistory(t, base, svcName); len(h) == 0 || h[0].Action != "deploy" || h[0].Actor != "ci-pipeline" {
		t.Fatalf("deploy record: want actor ci-pipeline from X-Bgdns-Actor: %+v", h)
	}
	wantAddrs(t, "preview after REST deploy", n.Dig("preview."+svcName, "A"), "A", 5, greenV4...)
	wantAddrs(t, "live after REST deploy", n.Dig(svcName, "A"), "A", 5, blueV4...)

	// A stale expect_revision is refused with 409 and the current state,
	// and changes nothing.
	stale := Call(t, "POST", base+"/v1/services/"+svcName+"/switch",
		map[string]any{"to": "green", "expect_revision": before.Revision, "reason": "stale"})
	if stale.Status != http.StatusConflict || stale.ErrorCode() != "conflict" {
		t.Fatalf("%s (want 409 conflict)", stale)
	}
	if s := GetService(t, base, svcName); s.Active != "blue" || s.Revision != m.Service.Revision {
		t.Fatalf("a refused switch changed the service: %+v", s)
	}
	wantAddrs(t, "live after refused switch", n.Dig(svcName, "A"), "A", 5, blueV4...)
	ifMatch, err := CallHeaders("POST", base+"/v1/services/"+svcName+"/switch", map[string]any{},
		map[string]string{"If-Match": fmt.Sprintf("%q", fmt.Sprint(before.Revision))})
	if err != nil || ifMatch.Status != http.StatusConflict || ifMatch.ErrorCode() != "conflict" {
		t.Fatalf("stale If-Match: %v %s (want 409 conflict)", err, ifMatch)
	}

	// A switch with a request_id, repeated: the first result comes back
	// and the switch is not applied twice (a second one would flip back).
	sw := map[string]any{"reason": "2.0 passed tests", "request_id": "ci-run-42-switch",
		"expect_revision": m.Service.Revision}
	first := mutate(t, "POST", base+"/v1/services/"+svcName+"/switch", sw)
	if first.Service.Active != "green" || first.Service.State != "validating" {
		t.Fatalf("switch: %s", first.Raw)
	}
	again := mutate(t, "POST", base+"/v1/services/"+svcName+"/switch", sw)
	if again.Index != first.Index || again.Service.Active != "green" || again.Service.Revision != first.Service.Revision {
		t.Fatalf("repeated request_id: first %s, again %s", first.Raw, again.Raw)
	}
	wantAddrs(t, "live after switch", n.Dig(svcName, "A"), "A", 5, greenV4...)
	switches := 0
	for _, rec := range GetHistory(t, base, svcName) {
		if rec.Action == "switch" {
			switches++
			if rec.RequestID != "ci-run-42-switch" || rec.Reason != "2.0 passed tests" {
				t.Errorf("switch record: %+v", rec)
			}
		}
	}
	if switches != 1 {
		t.Fatalf("%d switch records after a repeated request_id, want 1", switches)
	}

	// Rollback (waiting for every voter), then complete.
	rb := Expect(t, http.StatusOK, "POST", base+"/v1/services/"+svcName+"/rollback?wait=all",
		map[string]any{"reason": "error rate"})
	rm, err := decodeMutation(rb.Body)
	if err != nil || rm.Service.Active != "blue" || rm.Service.State != "rolled_back" || rm.Index == 0 {
		t.Fatalf("rollback?wait=all: %v %s", err, rb)
	}
	if !strings.Contains(string(rb.Body), `"r1"`) {
		t.Errorf("rollback?wait=all does not list node r1: %s", rb.Body)
	}
	wantAddrs(t, "live after rollback", n.Dig(svcName, "A"), "A", 5, blueV4...)
	cm := mutate(t, "POST", base+"/v1/services/"+svcName+"/complete", map[string]any{})
	if cm.Service.State != "stable" || cm.Service.Active != "blue" {
		t.Fatalf("complete: %s", cm.Raw)
	}

	// History over REST, newest first.
	var actions []string
	for _, rec := range GetHistory(t, base, svcName) {
		actions = append(actions, rec.Action)
	}
	if got := strings.Join(actions, ","); got != "complete,rollback,switch,deploy,service.put" {
		t.Errorf("history actions %s", got)
	}

	// Mistakes get 4xx with an error body, never a 500, and change nothing.
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{"GET", "/v1/services/nope.bg.example.test", nil, 404, "not_found"},
		{"POST", "/v1/services/nope.bg.example.test/switch", map[string]any{}, 404, "not_found"},
		{"PUT", "/v1/services/" + svcName, `{"ttl": 5, "blue": `, 400, "bad_request"},
		{"POST", "/v1/services/" + svcName + "/switch", map[string]any{"to": "purple"}, 0, ""},
		{"POST", "/v1/services/" + svcName + "/deploy", map[string]any{"version": "3", "addresses": []string{"10.0.0.300"}}, 0, ""},
		{"PUT", "/v1/services/api.elsewhere.test", api, 0, ""},
	} {
		r := Call(t, c.method, base+c.path, c.body)
		if r.Status < 400 || r.Status >= 500 || (c.status != 0 && r.Status != c.status) {
			t.Errorf("%s (want 4xx %d)", r, c.status)
		}
		if c.code != "" && r.ErrorCode() != c.code {
			t.Errorf("%s: error code %q, want %q", r, r.ErrorCode(), c.code)
		}
		var e ErrorJSON
		if json.Unmarshal(r.Body, &e) != nil || e.Error.Message == "" {
			t.Errorf("%s: no {\"error\":{\"code\",\"message\"}} body", r)
		}
	}
	if s := GetService(t, base, svcName); s.Revision != cm.Service.Revision || s.Active != "blue" {
		t.Fatalf("bad input changed the service: %+v", s)
	}

	// DELETE a service: 404 afterwards, NXDOMAIN over DNS.
	if r := Call(t, "DELETE", base+"/v1/services/"+webName, nil); r.Status != http.StatusOK && r.Status != http.StatusNoContent {
		t.Fatalf("%s (want 200 or 204)", r)
	}
	if r := Call(t, "GET", base+"/v1/services/"+webName, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "not_found" {
		t.Fatalf("%s (want 404 not_found)", r)
	}
	wantNegative(t, "deleted service", n.Dig(webName, "A"), "NXDOMAIN", otherZone)

	// DELETE the zone: no longer listed, REFUSED over DNS.
	if r := Call(t, "DELETE", base+"/v1/zones/"+strings.TrimSuffix(otherZone, "."), nil); r.Status != http.StatusOK && r.Status != http.StatusNoContent {
		t.Fatalf("%s (want 200 or 204)", r)
	}
	if zoneListed(t, base, otherZone) {
		t.Fatalf("GET /v1/zones still lists %s after DELETE", otherZone)
	}
	if r := Call(t, "GET", base+"/v1/zones/"+strings.TrimSuffix(otherZone, "."), nil); r.Status != http.StatusNotFound {
		t.Fatalf("%s (want 404 after DELETE)", r)
	}
	if a := n.Dig(otherZone, "SOA"); a.Status != "REFUSED" {
		t.Fatalf("deleted zone: want REFUSED\n%s", a.Raw)
	}
	wantAddrs(t, "api still served after the other zone went", n.Dig(svcName, "A"), "A", 5, blueV4...)
}

// mutate sends a mutating call, wants 200 (or 201 for a create) and
// decodes the new service and the Raft index, checking they agree.
func mutate(t *testing.T, method, url string, body any) Mutation {
	t.Helper()
	r := Call(t, method, url, body)
	if r.Status != http.StatusOK && !(method == "PUT" && r.Status == http.StatusCreated) {
		t.Fatalf("%s (want 200)", r)
	}
	m, err := decodeMutation(r.Body)
	if err != nil {
		t.Fatalf("%s: %v", r, err)
	}
	if m.Index == 0 || m.Service.Revision != m.Index {
		t.Fatalf("%s: want index > 0 equal to the service's revision", r)
	}
	return m
}

// zoneListed reports whether GET /v1/zones lists zone (with or without its
// trailing dot).
func zoneListed(t *testing.T, base, zone string) bool {
	t.Helper()
	r := Expect(t, http.StatusOK, "GET", base+"/v1/zones", nil)
	var zones []struct {
		Name string `json:"name"`
	}
	if err := decodeList(r.Body, &zones, "zones", "items"); err != nil {
		t.Fatalf("%s: %v", r, err)
	}
	for _, z := range zones {
		if strings.TrimSuffix(z.Name, ".") == strings.TrimSuffix(zone, ".") {
			return true
		}
	}
	return false
}
