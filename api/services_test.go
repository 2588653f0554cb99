package api

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
)

func TestServiceLifecycle(t *testing.T) {
	e := newEnv(t, Options{})
	m := e.seed()
	s := m.Service
	if s == nil || s.Name != "api.bg.example.com" || s.Zone != "bg.example.com" || s.Active != "blue" ||
		s.State != "stable" || s.TTL != 5 || s.Revision != m.Index || m.Index != 2 {
		t.Fatalf("put: %+v (index %d)", s, m.Index)
	}
	if !slices.Equal(s.Blue.Addresses, []string{"10.0.0.11", "10.0.0.12"}) || s.Blue.Version != "1.0" || s.Green != nil {
		t.Fatalf("put pools: %+v %+v", s.Blue, s.Green)
	}
	if m.RequestID == "" {
		t.Fatal("no request id generated")
	}
	if ps := e.b.Proposals(); ps[1].Time.IsZero() || ps[1].Time.Location() != time.UTC || ps[1].Actor != "api@127.0.0.1" {
		t.Fatalf("command not stamped: %+v", ps[1])
	}

	// GET with and without a trailing dot; ETag is the revision.
	for _, p := range []string{"/v1/services/api.bg.example.com", "/v1/services/API.bg.example.com."} {
		r := e.must(http.StatusOK, "GET", p, "")
		if got := r.header.Get("ETag"); got != `"2"` {
			t.Fatalf("ETag %q", got)
		}
		var g Service
		r.decode(t, &g)
		if g.Name != "api.bg.example.com" || g.Revision != 2 {
			t.Fatalf("get: %+v", g)
		}
	}

	m = e.mutation("POST", "/v1/services/api.bg.example.com/deploy",
		`{"version":"2.0","addresses":["10.0.0.21","2001:db8::21"]}`)
	if m.Service.State != "deployed" || m.Service.Green == nil || m.Service.Green.Version != "2.0" ||
		!slices.Equal(m.Service.Green.Addresses, []string{"10.0.0.21", "2001:db8::21"}) || m.Service.Active != "blue" {
		t.Fatalf("deploy: %+v", m.Service)
	}
	m = e.mutation("POST", "/v1/services/api.bg.example.com/switch", `{"reason":"2.0 passed tests"}`,
		HeaderActor, "ci-pipeline")
	if m.Service.Active != "green" || m.Service.State != "validating" || m.Service.Previous != "blue" {
		t.Fatalf("switch: %+v", m.Service)
	}
	if got := e.b.Proposals()[3]; got.Actor != "ci-pipeline" || got.Reason != "2.0 passed tests" {
		t.Fatalf("switch command: %+v", got)
	}
	m = e.mutation("POST", "/v1/services/api.bg.example.com/rollback", "")
	if m.Service.Active != "blue" || m.Service.State != "rolled_back" {
		t.Fatalf("rollback: %+v", m.Service)
	}
	m = e.mutation("POST", "/v1/services/api.bg.example.com/switch", `{"to":"GREEN"}`)
	if m.Service.Active != "green" {
		t.Fatalf("switch to green: %+v", m.Service)
	}
	m = e.mutation("POST", "/v1/services/api.bg.example.com/complete", `{}`)
	if m.Service.State != "stable" || !m.Service.Blue.Retired || m.Service.Active != "green" {
		t.Fatalf("complete: %+v", m.Service)
	}

	var list ServiceList
	e.must(http.StatusOK, "GET", "/v1/services", "").decode(t, &list)
	if len(list.Services) != 1 || list.Services[0].Active != "green" {
		t.Fatalf("list: %+v", list)
	}
	e.must(http.StatusOK, "GET", "/v1/services?zone=bg.example.com", "").decode(t, &list)
	if len(list.Services) != 1 {
		t.Fatalf("list by zone: %+v", list)
	}

	var h History
	e.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com/history", "").decode(t, &h)
	var actions []control.Op
	for _, r := range h.Records {
		actions = append(actions, r.Action)
	}
	want := []control.Op{control.OpComplete, control.OpSwitch, control.OpRollback, control.OpSwitch, control.OpDeploy, control.OpServicePut}
	if !slices.Equal(actions, want) {
		t.Fatalf("history actions %v, want %v", actions, want)
	}
	if h.Records[4].Reason != "" || h.Records[3].Reason != "2.0 passed tests" || h.Records[3].From != "blue" || h.Records[3].To != "green" {
		t.Fatalf("history records: %+v", h.Records)
	}
	e.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com/history?limit=2", "").decode(t, &h)
	if len(h.Records) != 2 || h.Records[0].Action != control.OpComplete {
		t.Fatalf("limited history: %+v", h.Records)
	}

	m = e.mutation("DELETE", "/v1/services/api.bg.example.com", "")
	if m.Service == nil || m.Service.Name != "api.bg.example.com" {
		t.Fatalf("delete: %+v", m)
	}
	errorOf(t, e.must(http.StatusNotFound, "GET", "/v1/services/api.bg.example.com", ""))
	// History outlives the service.
	e.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com/history", "").decode(t, &h)
	if h.Records[0].Action != control.OpServiceDelete {
		t.Fatalf("history after delete: %+v", h.Records[0])
	}
}

func TestServicePutRoundTrip(t *testing.T) {
	e := newEnv(t, Options{})
	e.seed()
	// A GET body may be put back as it is: read-only fields are accepted.
	r := e.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com", "")
	m := e.mutation("PUT", "/v1/services/api.bg.example.com", string(r.body))
	if m.Service.Revision != 3 || m.Service.Blue.Version != "1.0" {
		t.Fatalf("round trip: %+v", m.Service)
	}
	// The active colour and no_txt are taken from the body.
	m = e.mutation("PUT", "/v1/services/api.bg.example.com",
		`{"name":"api.bg.example.com.","active":"green","no_txt":true,"blue":{"version":"1","addresses":["10.0.0.1"]},"green":{"version":"2","addresses":["::ffff:10.0.0.2"]}}`)
	if m.Service.Active != "green" || !m.Service.NoTXT || m.Service.Green.Addresses[0] != "10.0.0.2" {
		t.Fatalf("put green: %+v", m.Service)
	}
}

func TestConflictCarriesService(t *testing.T) {
	e := newEnv(t, Options{})
	e.seed()
	// Nothing deployed on green: switching is a lifecycle conflict.
	r := e.must(http.StatusConflict, "POST", "/v1/services/api.bg.example.com/switch", "")
	er := errorOf(t, r)
	if er.Code != "conflict" || er.Service == nil || er.Service.Active != "blue" || er.Service.Revision != 2 {
		t.Fatalf("409 without the current service: %s", r.body)
	}
	// A stale expect_revision is a 409 with the current service, too.
	r = e.must(http.StatusConflict, "POST", "/v1/services/api.bg.example.com/rollback", `{"expect_revision":1}`)
	if er := errorOf(t, r); er.Service == nil || er.Service.Revision != 2 {
		t.Fatalf("stale revision: %s", r.body)
	}
}

func TestIfMatch(t *testing.T) {
	e := newEnv(t, Options{})
	e.seed()
	e.mutation("POST", "/v1/services/api.bg.example.com/deploy", `{"version":"2.0","addresses":["10.0.0.21"]}`)
	cur := e.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com", "").header.Get("ETag")
	if cur != `"3"` {
		t.Fatalf("ETag %q", cur)
	}
	errorOf(t, e.must(http.StatusConflict, "POST", "/v1/services/api.bg.example.com/switch", "", "If-Match", `"2"`))
	errorOf(t, e.must(http.StatusBadRequest, "POST", "/v1/services/api.bg.example.com/switch", `{"expect_revision":2}`, "If-Match", cur))
	errorOf(t, e.must(http.StatusBadRequest, "POST", "/v1/services/api.bg.example.com/switch", "", "If-Match", "seventeen"))
	m := e.mutation("POST", "/v1/services/api.bg.example.com/switch", `{"expect_revision":3}`, "If-Match", cur)
	if m.Service.Active != "green" {
		t.Fatalf("switch: %+v", m.Service)
	}
	if got := e.b.Proposals(); got[len(got)-1].ExpectRevision != 3 {
		t.Fatalf("expect revision not passed on: %+v", got[len(got)-1])
	}
	// If-Match on delete.
	errorOf(t, e.must(http.StatusConflict, "DELETE", "/v1/services/api.bg.example.com", "", "If-Match", `"3"`))
	e.mutation("DELETE", "/v1/services/api.bg.example.com", "", "If-Match", etag(m.Service.Revision))
}

func TestDuplicateRequestID(t *testing.T) {
	e := newEnv(t, Options{})
	e.seed()
	e.mutation("POST", "/v1/services/api.bg.example.com/deploy", `{"version":"2.0","addresses":["10.0.0.21"]}`)
	first := e.mutation("POST", "/v1/services/api.bg.example.com/switch", `{"request_id":"flip-1"}`)
	if first.Duplicate || first.RequestID != "flip-1" {
		t.Fatalf("first: %+v", first)
	}
	// The same id again, by header this time: the first result, not applied twice.
	again := e.mutation("POST", "/v1/services/api.bg.example.com/switch", "", HeaderRequestID, "flip-1")
	if !again.Duplicate || again.Index != first.Index || again.Service.Active != "green" || again.Service.Revision != first.Service.Revision {
		t.Fatalf("duplicate: %+v, first %+v", again, first)
	}
	if s := e.b.State().Service("api.bg.example.com."); s.Revision != first.Index {
		t.Fatalf("applied twice: revision %d", s.Revision)
	}
	// The same id for another operation is a conflict.
	errorOf(t, e.must(http.StatusConflict, "POST", "/v1/services/api.bg.example.com/rollback", `{"request_id":"flip-1"}`))
	// Body and header disagreeing is a bad request.
	errorOf(t, e.must(http.StatusBadRequest, "POST", "/v1/services/api.bg.example.com/rollback", `{"request_id":"a"}`, HeaderRequestID, "b"))
	if got := e.do("POST", "/v1/services/api.bg.example.com/rollback", `{"request_id":"rb-9"}`).header.Get(HeaderRequestID); got != "rb-9" {
		t.Fatalf("X-Request-Id echoed as %q", got)
	}
}

func TestWaitAll(t *testing.T) {
	e := newEnv(t, Options{})
	e.seed()
	e.mutation("POST", "/v1/services/api.bg.example.com/deploy", `{"version":"2.0","addresses":["10.0.0.21"]}`)
	m := e.mutation("POST", "/v1/services/api.bg.example.com/switch?wait=all", "")
	w := m.Wait
	if w == nil || !w.Complete || w.Index != m.Index || len(w.Nodes) != 3 || len(w.Lagging) != 0 {
		t.Fatalf("wait: %+v", w)
	}
	for _, n := range w.Nodes {
		if n.Applied < m.Index {
			t.Fatalf("node %s applied %d < %d", n.ID, n.Applied, m.Index)
		}
	}
	// The body's "wait":"all" says the same; no wait, no "wait" object.
	if m := e.mutation("POST", "/v1/services/api.bg.example.com/rollback", `{"wait":"all"}`); m.Wait == nil || !m.Wait.Complete {
		t.Fatalf("body wait: %+v", m.Wait)
	}
	if m := e.mutation("POST", "/v1/services/api.bg.example.com/switch", ``); m.Wait != nil {
		t.Fatalf("wait without asking: %+v", m.Wait)
	}

	// A voter that lags: the wait times out; the commit stands, and the
	// answer is a 504 whose body names the lagging node.
	e.b.SetLagging("n3")
	r := e.must(http.StatusGatewayTimeout, "POST", "/v1/services/api.bg.example.com/rollback?wait=all&wait_timeout=20ms", "")
	var lm Mutation
	r.decode(t, &lm)
	if lm.Wait == nil || lm.Wait.Complete || !slices.Equal(lm.Wait.Lagging, []string{"n3"}) || lm.Service.Active != "blue" {
		t.Fatalf("lagging wait: %s", r.body)
	}
	if lm.Wait.Nodes[2].Applied != lm.Index-1 || lm.Wait.Error == "" {
		t.Fatalf("lagging node: %+v", lm.Wait)
	}
}

func TestETagMatchesRevisionAfterWrites(t *testing.T) {
	e := newEnv(t, Options{})
	m := e.seed()
	r := e.must(http.StatusOK, "PUT", "/v1/services/api.bg.example.com", svcBody)
	if r.header.Get("ETag") != `"`+strconv.FormatUint(m.Index+1, 10)+`"` {
		t.Fatalf("ETag after put: %q", r.header.Get("ETag"))
	}
}
