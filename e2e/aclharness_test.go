package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// aclToken is a token made in a test: its id, name and role, and the
// secret the API showed once.
type aclToken struct {
	ID, Name, Role string
	Scope          []string
	Secret         string
}

// tokenChangeJSON is what bootstrap, token create and revoke answer.
type tokenChangeJSON struct {
	Index uint64 `json:"index"`
	Token struct {
		ID    string   `json:"id"`
		Name  string   `json:"name"`
		Role  string   `json:"role"`
		Scope []string `json:"scope"`
	} `json:"token"`
	Secret string `json:"secret"`
}

// auditRecordJSON is a history or audit record with the fields the ACL
// tests look at.
type auditRecordJSON struct {
	Actor      string `json:"actor"`
	Action     string `json:"action"`
	Index      uint64 `json:"index"`
	Target     string `json:"target"`
	OnBehalfOf string `json:"on_behalf_of"`
	RequestID  string `json:"request_id"`
}

// aclCLI runs the client against n with secret in BGDNS_TOKEN (never on
// the command line); "" runs it without a token.
func aclCLI(t testing.TB, n *Node, secret string, args ...string) CLIResult {
	t.Helper()
	env := n.CLIEnv()
	if secret != "" {
		env = append(env, "BGDNS_TOKEN="+secret)
	}
	return RunCLIEnv(t, env, n.URL(), args...)
}

// aclCLIJSON runs the client with -o json, fails the test on a non-zero
// exit and decodes stdout into v.
func aclCLIJSON(t testing.TB, n *Node, secret string, v any, args ...string) {
	t.Helper()
	r := aclCLI(t, n, secret, append(args, "-o", "json")...)
	if r.Code != 0 {
		t.Fatalf("%s", r)
	}
	if err := json.Unmarshal([]byte(r.Stdout), v); err != nil {
		t.Fatalf("%s: stdout not JSON for %T: %v", r, v, err)
	}
}

// callAs sends a request with secret as a bearer token ("" sends none)
// and the given extra headers; a transport error fails the test.
func callAs(t testing.TB, secret, method, url string, body any, extra map[string]string) HTTPResult {
	t.Helper()
	h := map[string]string{}
	for k, v := range extra {
		h[k] = v
	}
	if secret != "" {
		h["Authorization"] = "Bearer " + secret
	}
	r, err := CallHeaders(method, url, body, h)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// aclLeader waits until every given node names the same running leader
// (asking GET /v1/cluster with secret) and returns it.
func aclLeader(t testing.TB, secret string, nodes []*Node) *Node {
	t.Helper()
	var leader *Node
	eventually(t, 20*time.Second, "one leader agreed by every node", func() error {
		id := ""
		for _, n := range nodes {
			r, err := CallHeaders("GET", n.URL()+"/v1/cluster", nil, map[string]string{"Authorization": "Bearer " + secret})
			if err != nil {
				return err
			}
			if r.Status != http.StatusOK {
				return fmt.Errorf("%s: %s", n.ID, r)
			}
			var st struct {
				Leader *struct {
					ID string `json:"id"`
				} `json:"leader"`
			}
			if err := json.Unmarshal(r.Body, &st); err != nil {
				return err
			}
			if st.Leader == nil || st.Leader.ID == "" {
				return fmt.Errorf("%s knows no leader", n.ID)
			}
			if id != "" && id != st.Leader.ID {
				return fmt.Errorf("leaders disagree: %s and %s", id, st.Leader.ID)
			}
			id = st.Leader.ID
		}
		for _, n := range nodes {
			if n.ID == id {
				leader = n
				return nil
			}
		}
		return fmt.Errorf("leader %s is not one of the nodes", id)
	})
	return leader
}

// memberIDs returns the ids of the cluster's members as n reports them
// (asked with secret), sorted.
func memberIDs(t testing.TB, n *Node, secret string) []string {
	t.Helper()
	r := callAs(t, secret, "GET", n.URL()+"/v1/cluster", nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("%s", r)
	}
	var st struct {
		Members []struct {
			ID string `json:"id"`
		} `json:"members"`
	}
	r.Decode(t, &st)
	var ids []string
	for _, m := range st.Members {
		ids = append(ids, m.ID)
	}
	sort.Strings(ids)
	return ids
}

// stateSnapshot is everything a refused request could have changed, as
// the API shows it to an admin: services, zones, one service's history,
// the audit, the tokens and the members.
type stateSnapshot map[string]string

// takeSnapshot reads the snapshot from n with an admin secret.
func takeSnapshot(t testing.TB, n *Node, admin, service string) stateSnapshot {
	t.Helper()
	s := stateSnapshot{}
	for _, path := range []string{
		"/v1/services?limit=5000",
		"/v1/zones?limit=5000",
		"/v1/services/" + service + "/history?limit=1000",
		"/v1/audit?limit=5000",
		"/v1/acl/tokens?limit=5000",
	} {
		r := callAs(t, admin, "GET", n.URL()+path, nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("snapshot: %s", r)
		}
		s[path] = string(r.Body)
		if strings.HasPrefix(path, "/v1/services?") {
			s[path] = withoutRetire(t, r.Body)
		}
	}
	s["members"] = strings.Join(memberIDs(t, n, admin), ",")
	return s
}

// withoutRetire drops from a service list what the leader writes by
// itself once a switch is confirmed everywhere (the retire watermark), so
// that only what a client could have changed is compared.
func withoutRetire(t testing.TB, b []byte) string {
	t.Helper()
	var l struct {
		Services []map[string]json.RawMessage `json:"services"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("service list: %v: %s", err, b)
	}
	for _, svc := range l.Services {
		delete(svc, "retire")
		delete(svc, "safe_to_retire_at")
	}
	out, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// diff names the parts of two snapshots that differ.
func (s stateSnapshot) diff(o stateSnapshot) string {
	var out []string
	for k, v := range s {
		if o[k] != v {
			out = append(out, fmt.Sprintf("%s:\n  before: %s\n  after:  %s", k, v, o[k]))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// settledSnapshot waits until every node reports the same applied index
// (the index of the last command its state machine applied: the same
// entries on every node), then takes the snapshot from the leader: two
// snapshots taken so differ only when a command was applied in between,
// whichever node leads (leadership may move on a loaded machine).
func settledSnapshot(t testing.TB, nodes []*Node, admin, service string) stateSnapshot {
	t.Helper()
	eventually(t, 20*time.Second, "every node applied the same commands", func() error {
		var seen []string
		var first uint64
		same := true
		for i, n := range nodes {
			r, err := CallHeaders("GET", n.URL()+"/v1/cluster/self", nil, map[string]string{"Authorization": "Bearer " + admin})
			if err != nil {
				return err
			}
			var self struct {
				Applied uint64 `json:"applied_index"`
			}
			if err := jsonUnmarshal(string(r.Body), &self); err != nil {
				return err
			}
			if i == 0 {
				first = self.Applied
			}
			same = same && self.Applied == first
			seen = append(seen, fmt.Sprintf("%s=%d", n.ID, self.Applied))
		}
		if !same {
			return fmt.Errorf("applied indexes differ: %s", strings.Join(seen, " "))
		}
		return nil
	})
	return takeSnapshot(t, aclLeader(t, admin, nodes), admin, service)
}

// retryNoLeader runs f until it does not fail for want of a leader (an
// election on a loaded machine), at most 20 s; it returns f's last result.
func retryNoLeader(f func() CLIResult) CLIResult {
	deadline := time.Now().Add(20 * time.Second * slow)
	for {
		r := f()
		if r.Code == 0 || !strings.Contains(r.Stderr, "no_leader") || time.Now().After(deadline) {
			return r
		}
		time.Sleep(250 * time.Millisecond)
	}
}
