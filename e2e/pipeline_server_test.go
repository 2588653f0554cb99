package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

const pipeSvc = "pipe.bg.example.test"

// pipeCall sends a write with headers and fails the test unless it
// answers want; it returns the decoded body.
func pipeCall(t *testing.T, want int, method, url string, body any, hdr map[string]string) map[string]any {
	t.Helper()
	r, err := CallHeaders(method, url, body, hdr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != want {
		t.Fatalf("%s (want %d)", r, want)
	}
	var out map[string]any
	r.Decode(t, &out)
	return out
}

func getServiceMap(t *testing.T, base string) map[string]any {
	t.Helper()
	return pipeCall(t, http.StatusOK, "GET", base+"/v1/services/"+pipeSvc, nil, nil)
}

func pipeSwitches(t *testing.T, base string) []RecordJSON {
	t.Helper()
	var out []RecordJSON
	for _, r := range GetHistory(t, base, pipeSvc) {
		if r.Action == "switch" {
			out = append(out, r)
		}
	}
	return out
}

var mergePatch = map[string]string{"Content-Type": "application/merge-patch+json"}

// TestPipelinePutPatchGates: on a frozen service neither PUT nor PATCH can
// change the active colour without force and a reason, and DNS keeps
// answering the old colour; with them it flips, DNS follows and the
// history shows a switch. A PATCH of the TTL changes the TTL only.
func TestPipelinePutPatchGates(t *testing.T) {
	n := StartNode(t, NodeOptions{ID: "p1", Bootstrap: true})
	base := n.URL()
	svcURL := base + "/v1/services/" + pipeSvc
	pipeCall(t, http.StatusOK, "PUT", svcURL, map[string]any{
		"ttl": 5, "active": "blue",
		"blue":  map[string]any{"version": "1.0", "addresses": []string{"10.0.0.11"}},
		"green": map[string]any{"version": "2.0", "addresses": []string{"10.0.0.21"}},
	}, nil)
	pipeCall(t, http.StatusOK, "POST", svcURL+"/freeze", map[string]any{"reason": "release freeze"}, nil)
	frozen := getServiceMap(t, base)

	put := maps.Clone(frozen)
	put["active"] = "green"
	for _, w := range []struct {
		method string
		body   any
		hdr    map[string]string
	}{
		{"PUT", put, nil},
		{"PATCH", `{"active":"green"}`, mergePatch},
		{"PATCH", `{"active":"green","frozen":false}`, nil},
	} {
		r, err := CallHeaders(w.method, svcURL, w.body, w.hdr)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusConflict || r.ErrorCode() != "conflict" || !strings.Contains(string(r.Body), "frozen") {
			t.Fatalf("%s on a frozen service: %s (want 409 naming the freeze)", w.method, r)
		}
	}
	if got := getServiceMap(t, base); got["active"] != "blue" || got["revision"] != frozen["revision"] {
		t.Fatalf("a refused write changed the service: %v", got)
	}
	wantAddrs(t, "frozen, still blue", n.Dig(pipeSvc, "A"), "A", 5, "10.0.0.11")

	// PATCH of the TTL: everything else as it was
	m := pipeCall(t, http.StatusOK, "PATCH", svcURL, `{"ttl":30}`, mergePatch)
	after := getServiceMap(t, base)
	if after["ttl"] != float64(30) || after["revision"] != m["index"] {
		t.Fatalf("patched service %v (response %v)", after, m)
	}
	b, a := maps.Clone(frozen), maps.Clone(after)
	for _, k := range []string{"ttl", "revision", "changed_at"} {
		delete(b, k)
		delete(a, k)
	}
	bj, _ := json.Marshal(b)
	aj, _ := json.Marshal(a)
	if string(bj) != string(aj) {
		t.Fatalf("a PATCH of the ttl changed more:\nbefore %s\nafter  %s", bj, aj)
	}
	eventually(t, 10*time.Second, "TTL 30 over DNS", func() error {
		return checkAddrs(n.Dig(pipeSvc, "A"), "A", 30, "10.0.0.11")
	})

	// force without a reason is refused; with one, the patch switches
	pipeCall(t, http.StatusUnprocessableEntity, "PATCH", svcURL, `{"active":"green","force":true}`, mergePatch)
	m = pipeCall(t, http.StatusOK, "PATCH", svcURL, `{"active":"green","force":true,"reason":"incident 7"}`,
		map[string]string{"Content-Type": "application/merge-patch+json", "X-Request-Id": "pipe-patch-1"})
	wantAddrs(t, "forced patch, green", n.Dig(pipeSvc, "A"), "A", 30, "10.0.0.21")
	sw := pipeSwitches(t, base)
	if len(sw) != 1 || sw[0].From != "blue" || sw[0].To != "green" || sw[0].Reason != "incident 7" ||
		sw[0].RequestID != "pipe-patch-1" || float64(sw[0].Index) != m["index"] {
		t.Fatalf("history after the forced patch: %+v (response %v)", sw, m)
	}

	// a PUT back to blue: refused, then forced
	put = getServiceMap(t, base)
	put["active"] = "blue"
	pipeCall(t, http.StatusConflict, "PUT", svcURL, put, nil)
	put["force"], put["reason"] = true, "back to blue"
	m = pipeCall(t, http.StatusOK, "PUT", svcURL, put, nil)
	wantAddrs(t, "forced put, blue", n.Dig(pipeSvc, "A"), "A", 30, "10.0.0.11")
	sw = pipeSwitches(t, base)
	if len(sw) != 2 || sw[0].From != "green" || sw[0].To != "blue" || sw[0].Reason != "back to blue" || float64(sw[0].Index) != m["index"] {
		t.Fatalf("history after the forced put: %+v", sw)
	}

	// the version this node runs
	v := pipeCall(t, http.StatusOK, "GET", base+"/v1/version", nil, nil)
	if v["version"] == "" || v["go_version"] != runtime.Version() || v["raft_protocol"] != float64(3) || v["entry_encoding"] == nil || v["snapshot_encoding"] == nil {
		t.Fatalf("GET /v1/version: %v", v)
	}
}

// TestPipelineChangeLogJSON: nodes started with --log-format json log in
// JSON only; a switch sent to a follower is logged once, by the leader
// that committed it, as one line with action, service, from, to, index,
// actor, reason and request_id.
func TestPipelineChangeLogJSON(t *testing.T) {
	c := StartCluster(t, 2, ClusterOptions{Args: []string{"--log-format", "json"}})
	leader := c.Leader()
	var follower *Node
	for _, nd := range c.Nodes {
		if nd != leader {
			follower = nd
		}
	}
	svcURL := follower.URL() + "/v1/services/" + pipeSvc
	pipeCall(t, http.StatusOK, "PUT", svcURL, map[string]any{
		"ttl": 5, "active": "blue",
		"blue":  map[string]any{"version": "1.0", "addresses": []string{"10.0.0.11"}},
		"green": map[string]any{"version": "2.0", "addresses": []string{"10.0.0.21"}},
	}, nil)
	m := pipeCall(t, http.StatusOK, "POST", svcURL+"/switch", map[string]any{"reason": "canary passed"},
		map[string]string{"X-Request-Id": "pipe-switch-1", "X-Bgdns-Actor": "release-bot"})
	idx, _ := m["index"].(float64)
	if idx == 0 {
		t.Fatalf("switch response without an index: %v", m)
	}

	var found []map[string]any
	var where []string
	eventually(t, 10*time.Second, "the switch's change line", func() error {
		found, where = nil, nil
		for _, nd := range c.Nodes {
			sc := bufio.NewScanner(strings.NewReader(nd.Log()))
			sc.Buffer(make([]byte, 64*1024), 1<<20)
			for sc.Scan() {
				line := sc.Text()
				if strings.Contains(line, "level=") && strings.Contains(line, "msg=") {
					return permanent{fmt.Errorf("%s logged a text line with --log-format json: %s", nd.ID, line)}
				}
				if !strings.HasPrefix(line, "{") {
					continue
				}
				var l map[string]any
				if err := json.Unmarshal([]byte(line), &l); err != nil {
					return permanent{fmt.Errorf("%s: a log line is not JSON: %s", nd.ID, line)}
				}
				if l["msg"] == "change" && l["action"] == "switch" {
					found, where = append(found, l), append(where, nd.ID)
				}
			}
		}
		if len(found) == 0 {
			return fmt.Errorf("no change line with action=switch yet")
		}
		return nil
	})
	if len(found) != 1 || where[0] != leader.ID {
		t.Fatalf("want one switch line, on the leader %s; got %d on %v: %v", leader.ID, len(found), where, found)
	}
	l := found[0]
	for k, v := range map[string]any{
		"level": "INFO", "service": pipeSvc, "from": "blue", "to": "green", "index": idx,
		"actor": "release-bot", "reason": "canary passed", "request_id": "pipe-switch-1",
	} {
		if l[k] != v {
			t.Errorf("change line: %s is %v, want %v (%v)", k, l[k], v, l)
		}
	}
}
