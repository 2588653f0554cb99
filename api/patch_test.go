package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bgdns/bgdns/api/apitest"
	"github.com/bgdns/bgdns/control"
)

// TestWriteGates runs the shared PUT/PATCH gate cases against the test
// backend (cluster's tests run them against a real node).
func TestWriteGates(t *testing.T) {
	e := newEnv(t, Options{})
	apitest.RunWriteGates(t, e.srv.URL, e.srv.Client())
}

// TestPatchServiceFields: a patch of nested fields merges into them, the
// request fields are not service fields, and a follower forwards the
// patch as it came.
func TestPatchServiceFields(t *testing.T) {
	e := newEnv(t, Options{})
	e.seed()
	const svc = "/v1/services/api.bg.example.com"
	m := e.mutation("PATCH", svc, `{"green":{"version":"2.0","addresses":["10.0.0.21"]},"health_check":{"type":"tcp","port":80},"reason":"add green"}`,
		"Content-Type", "application/merge-patch+json")
	s := m.Service
	if s.Green == nil || s.Green.Version != "2.0" || s.Blue.Version != "1.0" || s.HealthCheck == nil || s.HealthCheck.Port != 80 || s.MinHealthy != 1 {
		t.Fatalf("patch: %+v", s)
	}
	if p := e.b.Proposals(); p[len(p)-1].Op != control.OpServicePut || p[len(p)-1].Reason != "add green" || p[len(p)-1].ExpectRevision != 2 {
		t.Fatalf("proposed %+v", p[len(p)-1])
	}
	// a nested merge: the port changes, the type stays
	m = e.mutation("PATCH", svc, `{"health_check":{"port":81},"green":{"version":"2.1"}}`)
	if s := m.Service; s.HealthCheck.Type != "tcp" || s.HealthCheck.Port != 81 || s.Green.Version != "2.1" || len(s.Green.Addresses) != 1 {
		t.Fatalf("nested patch: %+v %+v", s.HealthCheck, s.Green)
	}
	// null removes it again (and min_healthy with it, which needs a check)
	m = e.mutation("PATCH", svc, `{"health_check":null,"min_healthy":null}`)
	if m.Service.HealthCheck != nil || m.Service.MinHealthy != 0 {
		t.Fatalf("null patch: %+v", m.Service)
	}

	// a follower forwards the patch body unchanged
	var got struct {
		method, ct, body string
	}
	leader := http.NewServeMux()
	leader.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := readBody(r, 1<<20)
		got.method, got.ct, got.body = r.Method, r.Header.Get("Content-Type"), string(b)
		writeJSON(w, http.StatusOK, Mutation{Index: 99})
	})
	ls := httptest.NewServer(leader)
	defer ls.Close()
	e.b.SetFollower(ls.URL)
	e.mutation("PATCH", svc, `{"ttl":60}`, "Content-Type", "application/merge-patch+json")
	if got.method != "PATCH" || got.ct != "application/merge-patch+json" || got.body != `{"ttl":60}` {
		t.Fatalf("forwarded %+v", got)
	}
}
