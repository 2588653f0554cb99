package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// clientActor is what the ACL tests' clients claim in X-Bgdns-Actor: with
// tokens it may only ever appear as on_behalf_of.
const clientActor = "alice@client"

// aclRow is one endpoint of the matrix: what it needs, and how to call it.
type aclRow struct {
	method string
	path   func() string
	body   any
	// role the endpoint needs: read, deploy, operator, admin; "bootstrap"
	// for POST /v1/acl/bootstrap (open, once: 409 for everyone after).
	role string
	// scoped: the path names a zone or service that a token's scope must cover.
	scoped bool
	// leaderOnly: the right token gets a 2xx from the leader only
	// (followers answer readindex with 503).
	leaderOnly bool
	// retry: the right token may get 409 for a while (complete waits for
	// the retire watermark).
	retry bool
	// after runs once the right token got its 2xx.
	after func(r HTTPResult)
}

func (r aclRow) String() string { return r.method + " " + r.path() }

// aclCase is one credential a matrix row is called with and what it must get.
type aclCase struct {
	what   string
	secret string
	token  string // the token's name, for the per-token counts ("" for none)
	want   int
}

// TestACLCluster runs a three-node TLS cluster with ACLs on (the default
// with TLS), bootstraps it with the CLI and creates tokens of every role
// with the CLI. It proves: revocation reaches every node and is final;
// every /v1 endpoint refuses no token, a wrong token, a revoked token, a
// token of a role below the endpoint's and a token scoped to another zone
// (401/403) without changing anything, on the leader and on a follower,
// and accepts the right token through a follower (the forwarded request
// keeps the token and the leader authorizes it again); the history and
// audit name the token, the client's X-Bgdns-Actor only as on_behalf_of;
// a node joining with a deploy token or none is refused and one with an
// admin token joins; and no node ever logs a secret.
func TestACLCluster(t *testing.T) {
	requireE2E(t, "dig")
	ca := NewTestCA(t)
	args := []string{"--log-level", "debug"}
	opts := func(id string) NodeOptions {
		return NodeOptions{ID: id, TLS: ca, ACL: true, MaxStale: time.Second, Args: args}
	}
	o1 := opts("a1")
	o1.Bootstrap = true
	n1 := StartNode(t, o1)

	// Before the bootstrap, /v1 answers nothing but the bootstrap.
	if r := callAs(t, "", "GET", n1.URL()+"/v1/services", nil, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("before bootstrap, no token: %s (want 401)", r)
	}
	var boot tokenChangeJSON
	aclCLIJSON(t, n1, "", &boot, "acl", "bootstrap")
	if !strings.HasPrefix(boot.Secret, "bgdns_") || boot.Token.Role != "admin" {
		t.Fatalf("bootstrap answered %+v", boot)
	}
	admin := boot.Secret
	secrets := []string{admin}
	if r := aclCLI(t, n1, "", "acl", "bootstrap", "-o", "json"); r.Code == 0 || strings.Contains(r.Stdout, "bgdns_") {
		t.Fatalf("a second bootstrap was not refused:\n%s", r)
	}

	// The others join with the admin token (BGDNS_JOIN_TOKEN).
	var nodes = []*Node{n1}
	for _, id := range []string{"a2", "a3"} {
		o := opts(id)
		o.Join = n1.URL()
		o.Env = []string{"BGDNS_JOIN_TOKEN=" + admin}
		nodes = append(nodes, StartNode(t, o))
	}
	for _, n := range nodes {
		eventually(t, 20*time.Second, n.ID+" sees three members", func() error {
			if got := strings.Join(memberIDs(t, n, admin), ","); got != "a1,a2,a3" {
				return fmt.Errorf("members %s", got)
			}
			return nil
		})
	}
	leader := aclLeader(t, admin, nodes)
	var follower *Node
	for _, n := range nodes {
		if n != leader {
			follower = n
			break
		}
	}
	t.Logf("leader %s, follower %s", leader.ID, follower.ID)

	// Zones, services and tokens, made through the follower with the CLI.
	mustCLI := func(secret string, args ...string) string {
		t.Helper()
		r := retryNoLeader(func() CLIResult { return aclCLI(t, follower, secret, args...) })
		if r.Code != 0 {
			t.Fatalf("%s", r)
		}
		return r.Stdout
	}
	const otherZone = "other.example.test"
	mustCLI(admin, "zone", "put", otherZone, "--glue", "ns1."+otherZone+"=192.0.2.53")
	mustCLI(admin, "service", "put", svcName, "--ttl", "1", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	mustCLI(admin, "service", "put", "del.bg.example.test", "--ttl", "1", "--blue", blueV4[0], "--blue-version", "1.0")
	mustCLI(admin, "service", "put", "api."+otherZone, "--ttl", "1", "--blue", blueV4[0], "--blue-version", "1.0")
	mk := func(name, role string, scope ...string) aclToken {
		t.Helper()
		a := []string{"acl", "token", "create", "--name", name, "--role", role}
		for _, s := range scope {
			a = append(a, "--scope", s)
		}
		var tc tokenChangeJSON
		r := retryNoLeader(func() CLIResult { return aclCLI(t, follower, admin, append(a, "-o", "json")...) })
		if r.Code != 0 {
			t.Fatalf("%s", r)
		}
		if err := jsonUnmarshal(r.Stdout, &tc); err != nil {
			t.Fatal(err)
		}
		if tc.Secret == "" || tc.Token.ID == "" || tc.Token.Name != name || tc.Token.Role != role {
			t.Fatalf("token create %s answered %+v", name, tc)
		}
		secrets = append(secrets, tc.Secret)
		return aclToken{ID: tc.Token.ID, Name: name, Role: role, Scope: scope, Secret: tc.Secret}
	}
	reader := mk("reader", "read")
	ciAPI := mk("ci-api", "deploy", svcName)
	ciOther := mk("ci-other", "deploy", otherZone)
	ops := mk("ops", "operator")
	opsOther := mk("ops-other", "operator", otherZone)
	admin2 := mk("admin2", "admin")
	doomed := mk("doomed", "admin")
	wrong := randomSecret(t, "bgdns_")
	secrets = append(secrets, wrong)

	// The token list shows every token and no secret.
	list := mustCLI(admin, "acl", "token", "list", "-o", "json")
	for _, tok := range []aclToken{reader, ciAPI, ciOther, ops, opsOther, admin2, doomed} {
		if !strings.Contains(list, tok.ID) || strings.Contains(list, tok.Secret) {
			t.Errorf("token list: %s missing or its secret shown:\n%s", tok.Name, list)
		}
	}

	// Revocation: the doomed admin token works on every node, then, once
	// revoked, is refused on every node and never works again.
	for _, n := range nodes {
		eventually(t, 10*time.Second, n.ID+" accepts the new token", func() error {
			if r := callAs(t, doomed.Secret, "GET", n.URL()+"/v1/acl/tokens", nil, nil); r.Status != http.StatusOK {
				return fmt.Errorf("%s", r)
			}
			return nil
		})
	}
	mustCLI(admin, "acl", "token", "revoke", doomed.ID)
	for _, n := range nodes {
		eventually(t, 10*time.Second, n.ID+" refuses the revoked token", func() error {
			if r := callAs(t, doomed.Secret, "GET", n.URL()+"/v1/services", nil, nil); r.Status != http.StatusUnauthorized {
				return fmt.Errorf("%s", r)
			}
			return nil
		})
	}
	for i := 0; i < 5; i++ {
		for _, n := range nodes {
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{"GET", "/v1/services", nil},
				{"GET", "/v1/acl/tokens", nil},
				{"POST", "/v1/acl/tokens", map[string]any{"name": "by-revoked", "role": "admin"}},
				{"POST", "/v1/services/" + svcName + "/freeze", map[string]any{}},
			} {
				if r := callAs(t, doomed.Secret, c.method, n.URL()+c.path, c.body, nil); r.Status != http.StatusUnauthorized {
					t.Errorf("%s with the revoked token: %s (want 401)", n.ID, r)
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := aclCLI(t, follower, doomed.Secret, "service", "list"); r.Code == 0 {
		t.Errorf("the CLI with a revoked token succeeded:\n%s", r)
	}

	// The matrix.
	ghostRaft, ghostHTTP := freeTCPAddr(t, "127.0.0.1"), freeTCPAddr(t, "127.0.0.1")
	var madeID string
	p := func(s string) func() string { return func() string { return s } }
	svc := "/v1/services/" + svcName
	rows := []aclRow{
		{method: "GET", path: p("/v1/zones"), role: "read"},
		{method: "GET", path: p("/v1/zones/bg.example.test"), role: "read", scoped: true},
		{method: "PUT", path: p("/v1/zones/z2.example.test"), role: "operator", scoped: true,
			body: map[string]any{"glue": map[string]any{"ns1.z2.example.test": []string{"192.0.2.53"}}}},
		{method: "POST", path: p("/v1/zones/z2.example.test/freeze"), body: map[string]any{"reason": "matrix"}, role: "operator", scoped: true},
		{method: "POST", path: p("/v1/zones/z2.example.test/unfreeze"), body: map[string]any{}, role: "operator", scoped: true},
		{method: "DELETE", path: p("/v1/zones/z2.example.test"), role: "operator", scoped: true},
		{method: "GET", path: p("/v1/services"), role: "read"},
		{method: "GET", path: p(svc), role: "read", scoped: true},
		{method: "PUT", path: p(svc), role: "operator", scoped: true,
			body: map[string]any{"ttl": 1, "blue": map[string]any{"version": "1.0", "addresses": blueV4}}},
		{method: "GET", path: p(svc + "/history"), role: "read", scoped: true},
		{method: "POST", path: p(svc + "/deploy"), body: map[string]any{"version": "2.0", "addresses": greenV4}, role: "deploy", scoped: true},
		{method: "POST", path: p(svc + "/switch"), body: map[string]any{"reason": "matrix"}, role: "deploy", scoped: true},
		{method: "POST", path: p(svc + "/rollback"), body: map[string]any{}, role: "deploy", scoped: true},
		{method: "POST", path: p(svc + "/switch"), body: map[string]any{"to": "green"}, role: "deploy", scoped: true},
		{method: "POST", path: p(svc + "/complete"), body: map[string]any{}, role: "deploy", scoped: true, retry: true},
		{method: "POST", path: p(svc + "/freeze"), body: map[string]any{"reason": "matrix"}, role: "operator", scoped: true},
		{method: "POST", path: p(svc + "/unfreeze"), body: map[string]any{}, role: "operator", scoped: true},
		{method: "DELETE", path: p("/v1/services/del.bg.example.test"), role: "operator", scoped: true},
		{method: "GET", path: p("/v1/cluster"), role: "read"},
		{method: "GET", path: p("/v1/cluster/self"), role: "read"},
		{method: "GET", path: p("/v1/cluster/checkpoint?index=1"), role: "read"},
		{method: "GET", path: p("/v1/cluster/readindex"), role: "read", leaderOnly: true},
		{method: "POST", path: p("/v1/cluster/join"), role: "admin",
			body: map[string]any{"id": "ghost", "raft_addr": ghostRaft, "http_addr": "https://" + ghostHTTP, "non_voter": true}},
		{method: "DELETE", path: p("/v1/cluster/members/ghost"), role: "admin"},
		{method: "POST", path: p("/v1/acl/bootstrap"), body: map[string]any{}, role: "bootstrap"},
		{method: "GET", path: p("/v1/acl/tokens"), role: "admin"},
		{method: "POST", path: p("/v1/acl/tokens"), body: map[string]any{"name": "matrix-made", "role": "read"}, role: "admin",
			after: func(r HTTPResult) {
				var tc tokenChangeJSON
				r.Decode(t, &tc)
				if tc.Secret == "" || tc.Token.ID == "" {
					t.Fatalf("token create through the follower: %s", r)
				}
				madeID = tc.Token.ID
				secrets = append(secrets, tc.Secret)
			}},
		{method: "GET", path: p("/v1/acl/tokens/" + ciOther.ID), role: "admin"},
		{method: "DELETE", path: func() string { return "/v1/acl/tokens/" + madeID }, role: "admin"},
		{method: "GET", path: p("/v1/audit"), role: "read"},
	}
	below := map[string]aclToken{"deploy": reader, "operator": ciAPI, "admin": ops}
	otherScope := map[string]aclToken{"read": ciOther, "deploy": ciOther, "operator": opsOther, "admin": opsOther}
	right := map[string]aclToken{"read": reader, "deploy": ciAPI, "operator": ops, "admin": admin2}

	type tally struct{ ok, unauthorized, forbidden int }
	perToken := map[string]*tally{}
	count := func(name string, status int) {
		if perToken[name] == nil {
			perToken[name] = &tally{}
		}
		switch {
		case status/100 == 2:
			perToken[name].ok++
		case status == http.StatusUnauthorized:
			perToken[name].unauthorized++
		case status == http.StatusForbidden:
			perToken[name].forbidden++
		}
	}
	endpoints := map[string]bool{}
	refused := 0
	var matrixStart uint64
	{
		var cl struct {
			CommitIndex uint64 `json:"commit_index"`
		}
		callAs(t, admin, "GET", aclLeader(t, admin, nodes).URL()+"/v1/cluster", nil, nil).Decode(t, &cl)
		matrixStart = cl.CommitIndex
	}
	// send calls n with the credential in the Authorization header on the
	// leader and in X-Bgdns-Token on a follower (both forms are accepted).
	send := func(n *Node, secret string, row aclRow, bearer bool) HTTPResult {
		t.Helper()
		h := map[string]string{"X-Bgdns-Actor": clientActor}
		if secret != "" {
			if bearer {
				h["Authorization"] = "Bearer " + secret
			} else {
				h["X-Bgdns-Token"] = secret
			}
		}
		r, err := CallHeaders(row.method, n.URL()+row.path(), row.body, h)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, row := range rows {
		endpoints[row.method+" "+strings.Split(row.path(), "?")[0]] = true
		cases := []aclCase{
			{what: "no token", want: http.StatusUnauthorized},
			{what: "wrong token", secret: wrong, want: http.StatusUnauthorized},
			{what: "revoked token", secret: doomed.Secret, token: doomed.Name, want: http.StatusUnauthorized},
		}
		if tok, ok := below[row.role]; ok {
			cases = append(cases, aclCase{what: "role " + tok.Role + " below " + row.role, secret: tok.Secret, token: tok.Name, want: http.StatusForbidden})
		}
		if tok, ok := otherScope[row.role]; ok && (row.scoped || row.role == "admin") {
			cases = append(cases, aclCase{what: "scoped to " + otherZone, secret: tok.Secret, token: tok.Name, want: http.StatusForbidden})
		}
		if row.role == "bootstrap" {
			// open, and done: everyone gets 409, the admin included
			for i := range cases {
				cases[i].want = http.StatusConflict
			}
			cases = append(cases, aclCase{what: "admin token", secret: admin2.Secret, want: http.StatusConflict})
		}
		before := settledSnapshot(t, nodes, admin, svcName)
		// the leader now, and a follower (leadership may move on a loaded machine)
		ld := aclLeader(t, admin, nodes)
		fl := nodes[0]
		if fl == ld {
			fl = nodes[1]
		}
		for _, n := range []*Node{ld, fl} {
			for _, c := range cases {
				r := send(n, c.secret, row, n == ld)
				refused++
				if c.token != "" {
					count(c.token, r.Status)
				}
				if r.Status != c.want {
					t.Errorf("%s on %s with %s: %s (want %d)", row, n.ID, c.what, r, c.want)
					continue
				}
				wantCode := map[int]string{401: "unauthorized", 403: "forbidden", 409: "conflict"}[c.want]
				if r.ErrorCode() != wantCode {
					t.Errorf("%s on %s with %s: error code %q, want %q: %s", row, n.ID, c.what, r.ErrorCode(), wantCode, r)
				}
				if c.want == 401 && r.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s on %s with %s: 401 without WWW-Authenticate", row, n.ID, c.what)
				}
			}
		}
		if d := before.diff(settledSnapshot(t, nodes, admin, svcName)); d != "" {
			t.Errorf("%s: refused requests changed the state:\n%s", row, d)
		}
		if row.role == "bootstrap" {
			continue
		}
		tok := right[row.role]
		target := fl
		if row.leaderOnly {
			target = aclLeader(t, admin, nodes)
		}
		var r HTTPResult
		deadline := time.Now().Add(20 * time.Second * slow)
		for {
			r = send(target, tok.Secret, row, false)
			again := (row.retry && r.Status == http.StatusConflict) || r.Status == http.StatusServiceUnavailable
			if !again || time.Now().After(deadline) {
				break
			}
			if row.leaderOnly {
				target = aclLeader(t, admin, nodes)
			}
			time.Sleep(200 * time.Millisecond)
		}
		count(tok.Name, r.Status)
		if r.Status/100 != 2 {
			t.Errorf("%s on %s with %s (role %s): %s (want 2xx)", row, target.ID, tok.Name, tok.Role, r)
			continue
		}
		if row.after != nil {
			row.after(r)
		}
	}

	commitIndex := func() uint64 {
		var cl struct {
			CommitIndex uint64 `json:"commit_index"`
		}
		callAs(t, admin, "GET", aclLeader(t, admin, nodes).URL()+"/v1/cluster", nil, nil).Decode(t, &cl)
		return cl.CommitIndex
	}
	matrixEnd := commitIndex()

	// Scoped tokens act inside their scope.
	for _, c := range []struct {
		tok          aclToken
		method, path string
		body         any
	}{
		{ciOther, "POST", "/v1/services/api." + otherZone + "/deploy", map[string]any{"version": "2.0", "addresses": greenV4}},
		{opsOther, "POST", "/v1/services/api." + otherZone + "/freeze", map[string]any{}},
		{ciAPI, "GET", "/v1/zones/bg.example.test", nil},
		{ciAPI, "GET", svc + "/history", nil},
	} {
		r := callAs(t, c.tok.Secret, c.method, follower.URL()+c.path, c.body, map[string]string{"X-Bgdns-Actor": clientActor})
		count(c.tok.Name, r.Status)
		if r.Status != http.StatusOK {
			t.Errorf("%s %s with %s inside its scope: %s", c.method, c.path, c.tok.Name, r)
		}
	}
	// A glob scope covers one label; force needs an operator token.
	ciGlob := mk("ci-glob", "deploy", "*."+otherZone)
	beforeScope := settledSnapshot(t, nodes, admin, svcName)
	for _, c := range []struct {
		tok          aclToken
		method, path string
		body         any
	}{
		{ciGlob, "POST", svc + "/switch", map[string]any{}},
		{ciGlob, "POST", "/v1/services/api." + otherZone + "/freeze", map[string]any{}},
		{ciAPI, "POST", svc + "/switch", map[string]any{"force": true, "reason": "forced by a deploy token"}},
		{ciOther, "POST", "/v1/services/api." + otherZone + "/rollback", map[string]any{"force": true, "reason": "forced by a deploy token"}},
	} {
		for _, n := range []*Node{leader, follower} {
			r := callAs(t, c.tok.Secret, c.method, n.URL()+c.path, c.body, nil)
			count(c.tok.Name, r.Status)
			if r.Status != http.StatusForbidden {
				t.Errorf("%s %s on %s with %s: %s (want 403)", c.method, c.path, n.ID, c.tok.Name, r)
			}
		}
	}
	if d := beforeScope.diff(settledSnapshot(t, nodes, admin, svcName)); d != "" {
		t.Errorf("refused scoped or forced requests changed the state:\n%s", d)
	}
	if r := callAs(t, ciGlob.Secret, "POST", follower.URL()+"/v1/services/api."+otherZone+"/deploy",
		map[string]any{"version": "3.0", "addresses": greenV4}, nil); r.Status != http.StatusOK {
		t.Errorf("deploy inside a glob scope: %s", r)
	} else {
		count(ciGlob.Name, r.Status)
	}

	// A scoped token's audit holds its zones' records only.
	var scopedAudit []auditRecordJSON
	if err := decodeList(callAs(t, ciOther.Secret, "GET", follower.URL()+"/v1/audit?limit=5000", nil, nil).Body, &scopedAudit, "records"); err != nil {
		t.Fatal(err)
	}
	if len(scopedAudit) == 0 {
		t.Errorf("a token scoped to %s sees no audit record (its zone was created and frozen-by-service in this test)", otherZone)
	}
	for _, rec := range scopedAudit {
		if strings.TrimSuffix(rec.Target, ".") != otherZone {
			t.Errorf("a token scoped to %s sees the audit record %+v", otherZone, rec)
		}
	}

	// A scoped token's lists show only its scope.
	r := callAs(t, ciOther.Secret, "GET", follower.URL()+"/v1/services", nil, nil)
	if r.Status != http.StatusOK || strings.Contains(string(r.Body), svcName) || !strings.Contains(string(r.Body), "api."+otherZone) {
		t.Errorf("services listed for a token scoped to %s: %s", otherZone, r)
	}

	// Every token was accepted somewhere and, below admin (which nothing
	// forbids), refused somewhere.
	for _, tok := range []aclToken{reader, ciAPI, ciOther, ciGlob, ops, opsOther, admin2} {
		c := perToken[tok.Name]
		if c == nil || c.ok == 0 || (tok.Role != "admin" && c.forbidden == 0) || c.unauthorized != 0 {
			t.Errorf("token %s (role %s): %+v, want at least one 2xx, no 401 and (below admin) at least one 403", tok.Name, tok.Role, c)
		}
	}
	if c := perToken[doomed.Name]; c == nil || c.ok != 0 || c.unauthorized == 0 {
		t.Errorf("revoked token: %+v, want only 401s", c)
	}
	t.Logf("matrix: %d endpoints, %d rows, %d refused calls; per token: %s", len(endpoints), len(rows), refused, fmtTally(perToken))

	// The history and the audit name the token; the claimed actor is only
	// on_behalf_of.
	tokenNames := map[string]bool{}
	for _, tok := range []aclToken{reader, ciAPI, ciOther, ciGlob, ops, opsOther, admin2} {
		tokenNames[tok.Name] = true
	}
	var hist []auditRecordJSON
	if err := decodeList(callAs(t, admin, "GET", follower.URL()+svc+"/history", nil, nil).Body, &hist, "history", "records"); err != nil {
		t.Fatal(err)
	}
	var audit []auditRecordJSON
	if err := decodeList(callAs(t, admin, "GET", follower.URL()+"/v1/audit?limit=5000", nil, nil).Body, &audit, "records"); err != nil {
		t.Fatal(err)
	}
	actors := map[string]string{}
	seen := 0
	for _, rec := range append(hist, audit...) {
		if rec.Index <= matrixStart || rec.Index > matrixEnd {
			continue
		}
		seen++
		actors[rec.Action] = rec.Actor
		if !tokenNames[rec.Actor] || rec.OnBehalfOf != clientActor {
			t.Errorf("record %+v: want a token's name as actor and %q as on_behalf_of", rec, clientActor)
		}
	}
	for action, want := range map[string]string{"deploy": ciAPI.Name, "switch": ciAPI.Name, "rollback": ciAPI.Name,
		"complete": ciAPI.Name, "freeze": ops.Name} {
		if actors[action] != want {
			t.Errorf("the %s record names %q, want %q (records since the matrix: %v)", action, actors[action], want, actors)
		}
	}
	if seen < 10 {
		t.Errorf("only %d history and audit records since the matrix began: %v", seen, actors)
	}

	// Join: a node with a deploy token, and one with none, are refused;
	// with an admin token it joins.
	refusedNodes := []*Node{}
	for _, c := range []struct{ id, secret string }{{"a4", ciAPI.Secret}, {"a5", ""}} {
		o := opts(c.id)
		o.Join = follower.URL()
		if c.secret != "" {
			o.Env = []string{"BGDNS_JOIN_TOKEN=" + c.secret}
		}
		n := NewNode(t, o)
		n.Start()
		refusedNodes = append(refusedNodes, n)
	}
	eventually(t, 30*time.Second, "the refused joins are logged", func() error {
		for _, n := range refusedNodes {
			if l := n.Log(); !strings.Contains(l, "join failed") || !strings.Contains(l, "forbidden") {
				return fmt.Errorf("%s has not logged a refusal yet", n.ID)
			}
		}
		return nil
	})
	time.Sleep(2 * time.Second)
	for _, n := range nodes {
		if got := strings.Join(memberIDs(t, n, admin), ","); got != "a1,a2,a3" {
			t.Errorf("%s: members %s after joins without an admin token", n.ID, got)
		}
	}
	for _, n := range refusedNodes {
		if n.Ready() {
			t.Errorf("%s is ready although its join was refused", n.ID)
		}
		n.Kill9()
	}
	o := opts("a4")
	o.Join = follower.URL()
	o.Env = []string{"BGDNS_JOIN_TOKEN=" + admin2.Secret}
	a4 := StartNode(t, o)
	for _, n := range append(nodes, a4) {
		eventually(t, 20*time.Second, n.ID+" sees a4 as a member", func() error {
			if got := strings.Join(memberIDs(t, n, admin), ","); got != "a1,a2,a3,a4" {
				return fmt.Errorf("members %s", got)
			}
			return nil
		})
	}

	// No node logged a secret.
	for _, n := range append(append(nodes, refusedNodes...), a4) {
		l := n.Log()
		for _, s := range secrets {
			if strings.Contains(l, s) {
				t.Errorf("%s: the log holds a token secret:\n%s", n.ID, grepLines(l, s))
			}
		}
		if !containsNode(refusedNodes, n) && !strings.Contains(l, "api request") {
			t.Errorf("%s: the log holds no request lines: is --log-level debug in effect?", n.ID)
		}
	}
}

func fmtTally[T any](m map[string]*T) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s=%+v", k, *v))
	}
	return strings.Join(parts, " ")
}

func containsNode(ns []*Node, n *Node) bool {
	for _, m := range ns {
		if m == n {
			return true
		}
	}
	return false
}

// An admin token is one without scope (the roles' documentation and the
// CLI's help: "admin ... needs an empty scope"): creating one with a scope
// is refused, through the CLI and the API.
func TestACLScopedAdminRefused(t *testing.T) {
	requireE2E(t, "dig")
	n := StartNode(t, NodeOptions{ID: "s1", Bootstrap: true, TLS: NewTestCA(t), ACL: true})
	var boot tokenChangeJSON
	aclCLIJSON(t, n, "", &boot, "acl", "bootstrap")
	if r := aclCLI(t, n, boot.Secret, "acl", "token", "create", "--name", "scoped-admin", "--role", "admin",
		"--scope", "bg.example.test", "-o", "json"); r.Code == 0 {
		t.Errorf("the CLI created an admin token with a scope:\n%s", r)
	}
	r := callAs(t, boot.Secret, "POST", n.URL()+"/v1/acl/tokens",
		map[string]any{"name": "scoped-admin-api", "role": "admin", "scope": []string{"api.bg.example.test"}}, nil)
	if r.Status/100 == 2 {
		t.Errorf("the API created an admin token with a scope: %s", r)
	}
	if strings.Contains(r.Header.Get("Content-Type"), "json") && r.Status/100 == 2 {
		var tc tokenChangeJSON
		r.Decode(t, &tc)
		// what the token may then do: admin routes refuse it, writes in its scope do not
		tokens := callAs(t, tc.Secret, "GET", n.URL()+"/v1/acl/tokens", nil, nil)
		t.Logf("the scoped admin token on GET /v1/acl/tokens: %d %s", tokens.Status, tokens.ErrorCode())
	}
}
