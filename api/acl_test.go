package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/bgdns/bgdns/control"
)

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// aclEnv is an API with ACLs on, bootstrapped, whose every log line is kept.
type aclEnv struct {
	*env
	logs    *syncBuffer
	admin   string
	secrets []string // every secret handed out, to look for in logs
}

func newACLEnv(t *testing.T, opts Options) *aclEnv {
	t.Helper()
	logs := &syncBuffer{}
	opts.ACL = true
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := &aclEnv{env: newEnv(t, opts), logs: logs}
	var tc TokenChange
	a.must(http.StatusOK, "POST", "/v1/acl/bootstrap", "").decode(t, &tc)
	if tc.Secret == "" || tc.Token.Role != "admin" || tc.Token.Name != "bootstrap" {
		t.Fatalf("bootstrap: %+v", tc)
	}
	a.admin = tc.Secret
	a.secrets = append(a.secrets, tc.Secret)
	return a
}

func bearer(secret string) []string { return []string{"Authorization", "Bearer " + secret} }

// token creates a token and returns its id and secret.
func (a *aclEnv) token(name, role string, scope ...string) (string, string) {
	a.t.Helper()
	body, _ := json.Marshal(TokenCreate{Name: name, Role: role, Scope: scope})
	var tc TokenChange
	a.must(http.StatusOK, "POST", "/v1/acl/tokens", string(body), bearer(a.admin)...).decode(a.t, &tc)
	if tc.Secret == "" || !strings.HasPrefix(tc.Secret, SecretPrefix) || tc.Token.ID == "" {
		a.t.Fatalf("create %s: %+v", name, tc)
	}
	a.secrets = append(a.secrets, tc.Secret)
	return tc.Token.ID, tc.Secret
}

// checkNoSecretLeaked looks for every secret in the logs, the proposals
// and the state's snapshot encoding.
func (a *aclEnv) checkNoSecretLeaked() {
	a.t.Helper()
	snap, err := control.MarshalState(a.b.State())
	if err != nil {
		a.t.Fatal(err)
	}
	var log bytes.Buffer
	for _, c := range a.b.Proposals() {
		b, _ := control.EncodeCommand(c)
		log.Write(b)
	}
	logs := a.logs.String()
	if !strings.Contains(logs, "api request") {
		a.t.Fatal("the log capture caught nothing")
	}
	for _, s := range a.secrets {
		if strings.Contains(logs, s) {
			a.t.Errorf("a secret is in the logs")
		}
		if bytes.Contains(snap, []byte(s)) || bytes.Contains(log.Bytes(), []byte(s)) {
			a.t.Errorf("a secret is in the state or the log entries")
		}
	}
	if len(a.b.State().Tokens()) == 0 {
		a.t.Fatal("no tokens in the state")
	}
}

func TestACLBootstrapOnceAndBeforeIt(t *testing.T) {
	e := newEnv(t, Options{ACL: true})
	r := e.must(http.StatusUnauthorized, "GET", "/v1/services", "")
	if er := errorOf(t, r); !strings.Contains(er.Message, "bootstrap") {
		t.Fatalf("before bootstrap: %s", r.body)
	}
	e.must(http.StatusUnauthorized, "PUT", "/v1/zones/bg.example.com", zoneBody)
	e.must(http.StatusUnauthorized, "GET", "/v1/acl/tokens", "")
	var tc TokenChange
	e.must(http.StatusOK, "POST", "/v1/acl/bootstrap", "", HeaderActor, "alice").decode(t, &tc)
	if tc.Token.CreatedBy != "anonymous@127.0.0.1" {
		t.Fatalf("bootstrap by %q", tc.Token.CreatedBy)
	}
	if a := e.b.State().Audit(0); a[0].OnBehalfOf != "alice" {
		t.Fatalf("bootstrap audit %+v", a[0])
	}
	errorOf(t, e.must(http.StatusConflict, "POST", "/v1/acl/bootstrap", ""))
	errorOf(t, e.must(http.StatusConflict, "POST", "/v1/acl/bootstrap", "", bearer(tc.Secret)...))
	e.must(http.StatusOK, "GET", "/v1/services", "", bearer(tc.Secret)...)
	e.must(http.StatusOK, "GET", "/v1/services", "", "X-Bgdns-Token", tc.Secret)
	// One bootstrap entry reached the log.
	n := 0
	for _, c := range e.b.Proposals() {
		if c.Op == control.OpACLBootstrap {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d bootstrap entries", n)
	}
	if ok, _ := e.b.State().ACLBootstrapped(); !ok {
		t.Fatal("state does not record the bootstrap")
	}
}

// endpoint is one /v1 route with what it needs.
type endpoint struct {
	method, path, body string
	role               string
	scoped             bool // the path names a service or zone the scope must cover
}

func TestACLRolesAndScopes(t *testing.T) {
	a := newACLEnv(t, Options{})
	_, read := a.token("reader", "read")
	_, deploy := a.token("ci-api", "deploy", "api.*.example.com")
	_, deployOther := a.token("ci-other", "deploy", "other.test")
	_, readOther := a.token("read-other", "read", "other.test")
	_, oper := a.token("ops", "operator", "bg.example.com")
	_, operOther := a.token("ops-other", "operator", "other.test")
	// an admin token is cluster-wide: one with a scope is refused
	a.must(http.StatusUnprocessableEntity, "POST", "/v1/acl/tokens",
		`{"name":"admin-scoped","role":"admin","scope":["bg.example.com"]}`, bearer(a.admin)...)
	revokedID, revoked := a.token("gone", "admin")
	a.must(http.StatusOK, "DELETE", "/v1/acl/tokens/"+revokedID, "", bearer(a.admin)...)

	good := map[string]string{"read": read, "deploy": deploy, "operator": oper, "admin": a.admin}
	smaller := map[string]string{"deploy": read, "operator": deploy, "admin": oper}
	otherScope := map[string]string{"read": readOther, "deploy": deployOther, "operator": operOther}
	svc := "/v1/services/api.bg.example.com"
	eps := []endpoint{
		{"PUT", "/v1/zones/bg.example.com", zoneBody, "operator", true},
		{"PUT", svc, svcBody, "operator", true},
		{"GET", "/v1/services", "", "read", false},
		{"GET", svc, "", "read", true},
		{"GET", svc + "/history", "", "read", true},
		{"GET", "/v1/zones", "", "read", false},
		{"GET", "/v1/zones/bg.example.com", "", "read", true},
		{"GET", "/v1/cluster", "", "read", false},
		{"GET", "/v1/cluster/self", "", "read", false},
		{"GET", "/v1/audit", "", "read", false},
		{"POST", svc + "/deploy", `{"version":"2.0","addresses":["10.0.0.21"]}`, "deploy", true},
		{"POST", svc + "/switch", `{"reason":"go"}`, "deploy", true},
		{"POST", svc + "/rollback", "", "deploy", true},
		{"POST", svc + "/complete", "", "deploy", true},
		{"POST", svc + "/freeze", "", "operator", true},
		{"POST", svc + "/unfreeze", "", "operator", true},
		{"POST", "/v1/zones/bg.example.com/freeze", "", "operator", true},
		{"POST", "/v1/zones/bg.example.com/unfreeze", "", "operator", true},
		{"POST", "/v1/cluster/join", `{"id":"n4","raft_addr":"127.0.0.1:7056","http_addr":"http://127.0.0.1:8056"}`, "admin", false},
		{"DELETE", "/v1/cluster/members/n4", "", "admin", false},
		{"GET", "/v1/acl/tokens", "", "admin", false},
		{"POST", "/v1/acl/tokens", `{"name":"made","role":"read"}`, "admin", false},
		{"DELETE", svc, "", "operator", true},
		{"DELETE", "/v1/zones/bg.example.com", "", "operator", true},
	}
	for _, ep := range eps {
		type try struct {
			what   string
			hdr    []string
			status int
		}
		tries := []try{
			{"no token", nil, http.StatusUnauthorized},
			{"wrong token", bearer("bgdns_not-a-token"), http.StatusUnauthorized},
			{"revoked token", bearer(revoked), http.StatusUnauthorized},
			{"basic auth", []string{"Authorization", "Basic YWRtaW46YWRtaW4="}, http.StatusUnauthorized},
		}
		if s, ok := smaller[ep.role]; ok {
			tries = append(tries, try{"too small a role", bearer(s), http.StatusForbidden})
		}
		if s, ok := otherScope[ep.role]; ok && ep.scoped {
			tries = append(tries, try{"scoped elsewhere", bearer(s), http.StatusForbidden})
		}
		for _, tr := range tries {
			before, idx := len(a.b.Proposals()), a.b.State().Index()
			r := a.do(ep.method, ep.path, ep.body, tr.hdr...)
			if r.status != tr.status {
				t.Errorf("%s %s with %s: %d, want %d: %s", ep.method, ep.path, tr.what, r.status, tr.status, r.body)
				continue
			}
			errorOf(t, r)
			if len(a.b.Proposals()) != before || a.b.State().Index() != idx {
				t.Errorf("%s %s with %s changed the state", ep.method, ep.path, tr.what)
			}
		}
		if r := a.do(ep.method, ep.path, ep.body, bearer(good[ep.role])...); r.status/100 != 2 {
			t.Errorf("%s %s with a %s token: %d %s", ep.method, ep.path, ep.role, r.status, r.body)
		}
	}
	a.checkNoSecretLeaked()
}

func TestACLHistoryActorIsTokenName(t *testing.T) {
	a := newACLEnv(t, Options{})
	_, ops := a.token("ops", "operator")
	a.must(http.StatusOK, "PUT", "/v1/zones/bg.example.com", zoneBody, bearer(ops)...)
	a.must(http.StatusOK, "PUT", "/v1/services/api.bg.example.com", svcBody, append(bearer(ops), HeaderActor, "alice")...)
	var h History
	a.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com/history", "", bearer(ops)...).decode(t, &h)
	if r := h.Records[0]; r.Actor != "ops" || r.OnBehalfOf != "alice" {
		t.Fatalf("history record %+v", r)
	}
	var al AuditList
	a.must(http.StatusOK, "GET", "/v1/audit", "", bearer(ops)...).decode(t, &al)
	if len(al.Records) < 3 || al.Records[0].Action != control.OpZonePut || al.Records[0].Actor != "ops" {
		t.Fatalf("audit %+v", al.Records)
	}
	// A deploy token cannot force.
	_, dep := a.token("dep", "deploy")
	a.mutation("POST", "/v1/services/api.bg.example.com/deploy", `{"version":"2","addresses":["10.0.0.2"]}`, bearer(dep)...)
	a.must(http.StatusOK, "POST", "/v1/services/api.bg.example.com/freeze", "", bearer(ops)...)
	errorOf(t, a.must(http.StatusForbidden, "POST", "/v1/services/api.bg.example.com/switch", `{"force":true,"reason":"now"}`, bearer(dep)...))
	a.must(http.StatusOK, "POST", "/v1/services/api.bg.example.com/switch", `{"force":true,"reason":"now"}`, bearer(ops)...)
	a.checkNoSecretLeaked()
}

func TestACLRevocationAndListing(t *testing.T) {
	a := newACLEnv(t, Options{})
	id, sec := a.token("ci", "read", "bg.example.com")
	a.must(http.StatusOK, "GET", "/v1/services", "", bearer(sec)...)
	var tl TokenList
	r := a.must(http.StatusOK, "GET", "/v1/acl/tokens", "", bearer(a.admin)...)
	r.decode(t, &tl)
	if len(tl.Tokens) != 2 || bytes.Contains(r.body, []byte(sec)) || bytes.Contains(r.body, []byte("secret")) {
		t.Fatalf("token list: %s", r.body)
	}
	var ti TokenInfo
	a.must(http.StatusOK, "GET", "/v1/acl/tokens/"+id, "", bearer(a.admin)...).decode(t, &ti)
	if ti.Name != "ci" || ti.Role != "read" || len(ti.Scope) != 1 || ti.Scope[0] != "bg.example.com" {
		t.Fatalf("token %+v", ti)
	}
	var tc TokenChange
	a.must(http.StatusOK, "DELETE", "/v1/acl/tokens/"+id, "", bearer(a.admin)...).decode(t, &tc)
	if tc.Secret != "" || tc.Token.ID != id {
		t.Fatalf("revoke: %+v", tc)
	}
	// Revocation takes effect as soon as the entry is applied.
	a.must(http.StatusUnauthorized, "GET", "/v1/services", "", bearer(sec)...)
	errorOf(t, a.must(http.StatusNotFound, "DELETE", "/v1/acl/tokens/"+id, "", bearer(a.admin)...))
	errorOf(t, a.must(http.StatusUnprocessableEntity, "POST", "/v1/acl/tokens", `{"name":"x","role":"root"}`, bearer(a.admin)...))
	errorOf(t, a.must(http.StatusBadRequest, "POST", "/v1/acl/tokens", `{"name":"x","role":"read","secret":"mine"}`, bearer(a.admin)...))
	// A retried create answers the token again, without a secret.
	body := `{"name":"again","role":"read","request_id":"mk-1"}`
	a.must(http.StatusOK, "POST", "/v1/acl/tokens", body, bearer(a.admin)...).decode(t, &tc)
	a.secrets = append(a.secrets, tc.Secret)
	var dup TokenChange
	a.must(http.StatusOK, "POST", "/v1/acl/tokens", body, bearer(a.admin)...).decode(t, &dup)
	if !dup.Duplicate || dup.Secret != "" || dup.Token.ID != tc.Token.ID {
		t.Fatalf("retried create: %+v", dup)
	}
	var al AuditList
	a.must(http.StatusOK, "GET", "/v1/audit", "", bearer(a.admin)...).decode(t, &al)
	if al.Records[0].Action != control.OpTokenCreate || al.Records[1].Action != control.OpTokenRevoke || al.Records[1].Target != id {
		t.Fatalf("audit %+v", al.Records)
	}
	a.checkNoSecretLeaked()
}

// --api-token stays a management token, with or without ACLs.
func TestManagementTokenWithACL(t *testing.T) {
	e := newEnv(t, Options{ACL: true, Token: "mgmt-secret"})
	// Not bootstrapped, but the management token works.
	e.must(http.StatusOK, "PUT", "/v1/zones/bg.example.com", zoneBody, bearer("mgmt-secret")...)
	e.must(http.StatusUnauthorized, "GET", "/v1/zones", "")
	if p := e.b.Proposals(); p[0].Actor != ManagementActor {
		t.Fatalf("actor %q", p[0].Actor)
	}
	e.must(http.StatusOK, "POST", "/v1/cluster/join", `{"id":"n4","raft_addr":"127.0.0.1:7056"}`, bearer("mgmt-secret")...)
}

// A scoped token sees only what its scope covers: services it matches,
// zones it reaches into, and their audit records.
func TestACLScopedReads(t *testing.T) {
	a := newACLEnv(t, Options{})
	a.seed2(bearer(a.admin))
	_, ci := a.token("ci", "read", "api.*.example.com")
	var l ServiceList
	a.must(http.StatusOK, "GET", "/v1/services", "", bearer(ci)...).decode(t, &l)
	if len(l.Services) != 1 || l.Services[0].Name != "api.bg.example.com" {
		t.Fatalf("scoped list: %+v", l.Services)
	}
	a.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com", "", bearer(ci)...)
	errorOf(t, a.must(http.StatusForbidden, "GET", "/v1/services/web.bg.example.com", "", bearer(ci)...))
	var zl ZoneList
	a.must(http.StatusOK, "GET", "/v1/zones", "", bearer(ci)...).decode(t, &zl)
	if len(zl.Zones) != 1 || zl.Zones[0].Name != "bg.example.com" {
		t.Fatalf("scoped zones: %+v", zl.Zones)
	}
	a.must(http.StatusOK, "GET", "/v1/zones/bg.example.com", "", bearer(ci)...)
	a.must(http.StatusForbidden, "GET", "/v1/zones/other.test", "", bearer(ci)...)
	var al AuditList
	a.must(http.StatusOK, "GET", "/v1/audit", "", bearer(ci)...).decode(t, &al)
	if len(al.Records) != 1 || al.Records[0].Target != "bg.example.com." {
		t.Fatalf("scoped audit: %+v", al.Records)
	}
	// An unscoped read token sees everything.
	_, all := a.token("all", "read")
	a.must(http.StatusOK, "GET", "/v1/services", "", bearer(all)...).decode(t, &l)
	a.must(http.StatusOK, "GET", "/v1/audit", "", bearer(all)...).decode(t, &al)
	if len(l.Services) != 2 || len(al.Records) < 5 {
		t.Fatalf("unscoped: %d services, %d audit records", len(l.Services), len(al.Records))
	}
}

// seed2 makes zones bg.example.com and other.test and the services api
// and web in bg.example.com.
func (a *aclEnv) seed2(hdr []string) {
	a.t.Helper()
	a.must(http.StatusOK, "PUT", "/v1/zones/bg.example.com", zoneBody, hdr...)
	a.must(http.StatusOK, "PUT", "/v1/zones/other.test", `{"ns":["ns.example.net"]}`, hdr...)
	a.must(http.StatusOK, "PUT", "/v1/services/api.bg.example.com", svcBody, hdr...)
	a.must(http.StatusOK, "PUT", "/v1/services/web.bg.example.com", svcBody, hdr...)
}
