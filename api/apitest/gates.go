package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
)

// GateService is the service RunWriteGates creates, in zone GateZone.
const (
	GateZone    = "gates.example.com"
	GateService = "api." + GateZone
)

// RunWriteGates runs, against the API at base (no ACLs), the cases every
// backend must agree on: a PUT or PATCH that changes the active colour
// passes the switch gates (here a freeze) or is forced with a reason, and
// is recorded as a switch; a PATCH changes only what it names; If-Match
// and request ids work on PATCH as on every write. The same function runs
// against this package's Backend and a real cluster node.
func RunWriteGates(t *testing.T, base string, client *http.Client) {
	t.Helper()
	c := gateClient{t: t, base: base + "/v1", hc: client}
	svc := "/services/" + GateService
	c.must(200, "PUT", "/zones/"+GateZone, `{"ns":["ns1.`+GateZone+`"],"glue":{"ns1.`+GateZone+`":["192.0.2.1"]}}`)
	c.must(200, "PUT", svc, `{"ttl":5,"active":"blue","min_switch_interval":"1s",`+
		`"blue":{"version":"1.0","addresses":["10.0.0.11"]},"green":{"version":"2.0","addresses":["10.0.0.21"]}}`)
	c.must(200, "POST", svc+"/freeze", `{"reason":"release freeze"}`)
	frozen := c.get(svc)

	// a PUT or PATCH that changes active on a frozen service is a switch:
	// refused with 409 (and the service as it is), changing nothing
	put := withField(frozen, "active", "green")
	for _, w := range []struct{ method, body, ct string }{
		{"PUT", put, ""},
		{"PATCH", `{"active":"green"}`, "application/merge-patch+json"},
		{"PATCH", `{"active":"green","frozen":false}`, "application/json"},
		{"PATCH", `{"green":{"version":"2.1","addresses":["10.0.0.22"]},"active":"green"}`, "application/merge-patch+json"},
	} {
		out := c.must(409, w.method, svc, w.body, "Content-Type", w.ct)
		msg := errField(out, "message")
		if !strings.Contains(msg, "is frozen") || !strings.Contains(msg, "active from blue to green") {
			t.Fatalf("%s %s: message %q does not say the switch is frozen", w.method, w.body, msg)
		}
		if e, _ := out["error"].(map[string]any); e["service"] == nil {
			t.Fatalf("%s %s: the 409 does not carry the service: %v", w.method, w.body, out)
		}
		if got := c.get(svc); !equalJSON(got, frozen) {
			t.Fatalf("a refused %s changed the service:\nbefore %v\nafter  %v", w.method, frozen, got)
		}
	}
	if n := len(c.switches(svc)); n != 0 {
		t.Fatalf("refused writes recorded %d switches", n)
	}

	// a PATCH of the TTL keeps everything else
	m := c.must(200, "PATCH", svc, `{"ttl":30}`, "Content-Type", "application/merge-patch+json")
	after := c.get(svc)
	if after["ttl"] != float64(30) || !equalExcept(frozen, after, "ttl", "revision", "changed_at") {
		t.Fatalf("patch of ttl:\nbefore %v\nafter  %v", frozen, after)
	}
	if after["revision"] != m["index"] {
		t.Fatalf("revision %v, index %v", after["revision"], m["index"])
	}
	// null removes an optional field
	c.must(200, "PATCH", svc, `{"min_switch_interval":null}`)
	if _, ok := c.get(svc)["min_switch_interval"]; ok {
		t.Fatal("min_switch_interval still set after a null patch")
	}

	// a stale If-Match is a 409, a current one passes
	rev := revisionOf(c.get(svc))
	c.must(409, "PATCH", svc, `{"ttl":31}`, "If-Match", fmt.Sprintf(`"%d"`, rev-1))
	c.must(409, "PATCH", svc, fmt.Sprintf(`{"ttl":31,"expect_revision":%d}`, rev-1))
	c.must(200, "PATCH", svc, `{"ttl":31}`, "If-Match", fmt.Sprintf(`"%d"`, rev))

	// force needs a reason; with both it switches and history shows it
	c.must(422, "PATCH", svc, `{"active":"green","force":true}`)
	m = c.must(200, "PATCH", svc, `{"active":"green","force":true,"reason":"incident 7"}`, "X-Request-Id", "patch-green")
	if s, _ := m["service"].(map[string]any); s["active"] != "green" || s["frozen"] != true || s["ttl"] != float64(31) {
		t.Fatalf("forced patch: %v", m)
	}
	idx := m["index"]
	sw := c.switches(svc)
	if len(sw) != 1 {
		t.Fatalf("want 1 switch record, got %v", sw)
	}
	if r := sw[0]; r["from"] != "blue" || r["to"] != "green" || r["index"] != idx || r["override"] != true ||
		r["reason"] != "incident 7" || r["request_id"] != "patch-green" || r["version"] != "2.0" {
		t.Fatalf("switch record: %v", r)
	}
	// a retry with the same request id is not applied twice
	dup := c.must(200, "PATCH", svc, `{"active":"green","force":true,"reason":"incident 7"}`, "X-Request-Id", "patch-green")
	if dup["duplicate"] != true || dup["index"] != idx {
		t.Fatalf("retried patch: %v", dup)
	}

	// a GET edited and put back flips too, once forced
	back := withField(c.get(svc), "active", "blue")
	c.must(409, "PUT", svc, back)
	back = withField(withField(back, "force", true), "reason", "back to blue")
	m = c.must(200, "PUT", svc, back)
	sw = c.switches(svc)
	if len(sw) != 2 || sw[0]["from"] != "green" || sw[0]["to"] != "blue" || sw[0]["index"] != m["index"] || sw[0]["reason"] != "back to blue" {
		t.Fatalf("switch records after the put: %v", sw)
	}
	// unfrozen, a PATCH switches without force, still recorded
	c.must(200, "POST", svc+"/unfreeze", `{}`)
	m = c.must(200, "PATCH", svc, `{"active":"green"}`)
	sw = c.switches(svc)
	if len(sw) != 3 || sw[0]["to"] != "green" || sw[0]["override"] != nil || sw[0]["index"] != m["index"] {
		t.Fatalf("switch records after the unfrozen patch: %v", sw)
	}
}

type gateClient struct {
	t    *testing.T
	base string
	hc   *http.Client
}

// must sends a request (hdr: name, value pairs; Content-Type defaults to
// application/json) and checks the status.
func (c gateClient) must(status int, method, path, body string, hdr ...string) map[string]any {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] != "" {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		c.t.Fatalf("%s %s %s: status %d, want %d: %s", method, path, body, res.StatusCode, status, raw)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
	return out
}

func (c gateClient) get(path string) map[string]any {
	c.t.Helper()
	return c.must(200, "GET", path, "")
}

// switches returns the switch records of the service's history, newest
// first.
func (c gateClient) switches(svc string) []map[string]any {
	c.t.Helper()
	h := c.get(svc + "/history")
	recs, _ := h["records"].([]any)
	var out []map[string]any
	for _, r := range recs {
		if m, _ := r.(map[string]any); m["action"] == "switch" {
			out = append(out, m)
		}
	}
	return out
}

func withField(obj any, k string, v any) string {
	var m map[string]any
	switch o := obj.(type) {
	case string:
		_ = json.Unmarshal([]byte(o), &m)
	case map[string]any:
		m = maps.Clone(o)
	}
	m[k] = v
	b, _ := json.Marshal(m)
	return string(b)
}

func errField(out map[string]any, k string) string {
	e, _ := out["error"].(map[string]any)
	s, _ := e[k].(string)
	return s
}

func revisionOf(s map[string]any) uint64 {
	f, _ := s["revision"].(float64)
	return uint64(f)
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// equalExcept compares two JSON objects leaving out the keys named.
func equalExcept(a, b map[string]any, skip ...string) bool {
	a, b = maps.Clone(a), maps.Clone(b)
	for _, k := range skip {
		delete(a, k)
		delete(b, k)
	}
	return equalJSON(a, b)
}
