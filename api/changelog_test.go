package api

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/bgdns/bgdns/api/apitest"
	"github.com/bgdns/bgdns/control"
)

// changeLines returns the change lines of a JSON log, in order.
func changeLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if m["msg"] == ChangeMessage {
			out = append(out, m)
		}
	}
	return out
}

// TestChangeLog: every committed change logs exactly one info line with
// action, what it is about, from, to, index, actor, reason and request_id;
// a retried request id logs nothing, a refused write logs nothing, and no
// token secret reaches the log.
func TestChangeLog(t *testing.T) {
	logs := &syncBuffer{}
	e := newEnv(t, Options{ACL: true, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	var boot TokenChange
	e.must(http.StatusOK, "POST", "/v1/acl/bootstrap", "").decode(t, &boot)
	e.hdr = append(bearer(boot.Secret), HeaderActor, "ci")
	const svc = "/v1/services/api.bg.example.com"

	type want struct {
		action, key, target, from, to, reason, reqID string
	}
	var wants []want
	var indexes []uint64
	step := func(w want, method, path, body string) {
		t.Helper()
		r := e.must(http.StatusOK, method, path, body, HeaderRequestID, w.reqID)
		var m struct {
			Index      uint64 `json:"index"`
			AuditIndex uint64 `json:"audit_index"`
		}
		r.decode(t, &m)
		wants = append(wants, w)
		indexes = append(indexes, max(m.Index, m.AuditIndex))
	}
	step(want{"zone.put", "zone", "bg.example.com", "", "revision 2", "", "r1"}, "PUT", "/v1/zones/bg.example.com", zoneBody)
	step(want{"service.put", "service", "api.bg.example.com", "", "blue", "", "r2"}, "PUT", svc, svcBody)
	step(want{"deploy", "service", "api.bg.example.com", "", "green", "", "r3"}, "POST", svc+"/deploy", `{"version":"2.0","addresses":["10.0.0.21"]}`)
	step(want{"switch", "service", "api.bg.example.com", "blue", "green", "tests passed", "r4"}, "POST", svc+"/switch", `{"reason":"tests passed"}`)
	step(want{"rollback", "service", "api.bg.example.com", "green", "blue", "", "r5"}, "POST", svc+"/rollback", "")
	step(want{"switch", "service", "api.bg.example.com", "blue", "green", "", "r6"}, "POST", svc+"/switch", "")
	step(want{"complete", "service", "api.bg.example.com", "blue", "green", "done", "r7"}, "POST", svc+"/complete", `{"reason":"done"}`)
	step(want{"deploy", "service", "api.bg.example.com", "", "blue", "", "r8"}, "POST", svc+"/deploy", `{"version":"3.0","addresses":["10.0.0.31"]}`)
	step(want{"freeze", "service", "api.bg.example.com", "", "", "", "r9"}, "POST", svc+"/freeze", "")
	step(want{"service.patch", "service", "api.bg.example.com", "", "green", "", "r10"}, "PATCH", svc, `{"ttl":30}`)
	step(want{"switch", "service", "api.bg.example.com", "green", "blue", "incident", "r11"}, "PATCH", svc, `{"active":"blue","force":true,"reason":"incident"}`)
	forced := len(wants) - 1
	step(want{"unfreeze", "service", "api.bg.example.com", "", "", "", "r12"}, "POST", svc+"/unfreeze", "")
	step(want{"freeze", "zone", "bg.example.com", "", "", "", "r13"}, "POST", "/v1/zones/bg.example.com/freeze", "")
	step(want{"token.create", "token", "", "", "deployer deploy", "", "r14"}, "POST", "/v1/acl/tokens", `{"name":"deployer","role":"deploy"}`)
	step(want{"member.join", "member", "n4", "", "127.0.0.1:7056", "", "r15"}, "POST", "/v1/cluster/join", `{"id":"n4","raft_addr":"127.0.0.1:7056"}`)
	step(want{"member.remove", "member", "n4", "127.0.0.1:7056", "", "", "r16"}, "DELETE", "/v1/cluster/members/n4", "")
	step(want{"service.delete", "service", "api.bg.example.com", "blue", "", "", "r17"}, "DELETE", svc, "")

	// changes nothing: a retry, a refused write, a read
	e.must(http.StatusOK, "DELETE", svc, "", HeaderRequestID, "r17")
	e.must(http.StatusOK, "PUT", "/v1/zones/bg.example.com", zoneBody, HeaderRequestID, "r1")
	e.must(http.StatusNotFound, "POST", svc+"/switch", "")
	e.must(http.StatusOK, "GET", "/v1/zones", "")

	lines := changeLines(t, logs.String())
	if len(lines) == 0 || lines[0]["action"] != "acl.bootstrap" || lines[0]["token"] != boot.Token.ID {
		t.Fatalf("the bootstrap is not the first change line:\n%s", logs.String())
	}
	lines = lines[1:]
	if len(lines) != len(wants) {
		t.Fatalf("%d change lines for %d changes:\n%s", len(lines), len(wants), logs.String())
	}
	for i, w := range wants {
		l := lines[i]
		if w.key == "token" {
			w.target, _ = l["token"].(string)
			if w.target == "" {
				t.Fatalf("token change without a token id: %v", l)
			}
		}
		for k, v := range map[string]any{
			"level": "INFO", "action": w.action, w.key: w.target, "from": w.from, "to": w.to,
			"index": float64(indexes[i]), "actor": "bootstrap", "reason": w.reason, "request_id": w.reqID,
		} {
			if l[k] != v {
				t.Errorf("change %d (%s): %s is %v, want %v: %v", i, w.action, k, l[k], v, l)
			}
		}
	}
	if l := lines[forced]; l["via"] != ActionServicePatch || l["override"] != true || l["on_behalf_of"] != "ci" {
		t.Errorf("the forced patch that switched: %v", l)
	}
	for _, s := range []string{boot.Secret, "bgdns_"} {
		if strings.Contains(logs.String(), s) {
			t.Fatalf("a token secret is in the log")
		}
	}
}

// moveOnBackend changes the service once, as a concurrent writer would,
// just before the first put it is asked to propose.
type moveOnBackend struct {
	*apitest.Backend
	moved bool
}

func (b *moveOnBackend) Propose(ctx context.Context, cmd control.Command) (control.Result, error) {
	if cmd.Op == control.OpServicePut && !b.moved {
		b.moved = true
		svc := b.State().Service(cmd.Name)
		sp := &control.ServiceSpec{TTL: 40, Active: svc.Active, Blue: svc.Blue, Green: svc.Green}
		if res, err := b.Backend.Propose(ctx, control.Command{Op: control.OpServicePut, Name: cmd.Name, Service: sp}); err != nil || res.Err != nil {
			panic("concurrent put failed")
		}
	}
	return b.Backend.Propose(ctx, cmd)
}

// TestPatchConcurrentWrite: a patch is applied to the service as it is
// when Apply runs; a write that lands between reading the service and
// committing the patch is kept, not overwritten.
func TestPatchConcurrentWrite(t *testing.T) {
	e := newEnv(t, Options{})
	e.seed()
	b := &moveOnBackend{Backend: e.b}
	e.srv.Config.Handler = NewHandler(b, Options{Logger: slog.New(slog.DiscardHandler)})
	m := e.mutation("PATCH", "/v1/services/api.bg.example.com", `{"no_txt":true}`)
	if !b.moved || m.Service.TTL != 40 || !m.Service.NoTXT {
		t.Fatalf("patch lost the concurrent write: moved %v, %+v", b.moved, m.Service)
	}
	// with the client's own precondition, the moved-on service is a 409
	b.moved = false
	rev := m.Service.Revision
	r := e.must(http.StatusConflict, "PATCH", "/v1/services/api.bg.example.com", `{"no_txt":false}`, "If-Match", etag(rev))
	if er := errorOf(t, r); !strings.Contains(er.Message, "revision") {
		t.Fatalf("409: %s", r.body)
	}
}
