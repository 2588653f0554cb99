package control

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

const secretA = "bgd_secret-a-0123456789abcdefghijklmnopqrstuvwxyz"

func tokenCmd(op Op, id, name string, role Role, secret string, scope ...string) Command {
	return Command{Op: op, Token: &TokenSpec{ID: id, Name: name, Role: role, Scope: scope, SecretHash: HashSecret(secret)}}
}

func TestRoleIncludes(t *testing.T) {
	order := []Role{RoleRead, RoleDeploy, RoleOperator, RoleAdmin}
	for i, r := range order {
		for j, need := range order {
			if got := r.Includes(need); got != (i >= j) {
				t.Errorf("%s includes %s: %v", r, need, got)
			}
		}
	}
	if Role("root").Includes(RoleRead) || Role("").Valid() {
		t.Error("an unknown role includes something")
	}
}

func TestScopeAllows(t *testing.T) {
	scope, e := normalizeScope([]string{"API.*.bg.example.com", "other.test", "web.bg.example.com."})
	if e != nil {
		t.Fatal(e)
	}
	for name, want := range map[string]bool{
		"api.eu.bg.example.com.":      true,
		"api.us.bg.example.com.":      true,
		"api.bg.example.com.":         false, // "*" is exactly one label
		"api.a.b.bg.example.com.":     false,
		"web.eu.bg.example.com.":      false,
		"x.other.test.":               true, // a zone covers its names
		"other.test.":                 true,
		"notother.test.":              false,
		"web.bg.example.com.":         true,
		"preview.web.bg.example.com.": true,
	} {
		if got := ScopeAllows(scope, name); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	for zone, want := range map[string]bool{
		"bg.example.com.":    true, // api.*.bg.example.com names are in it
		"eu.bg.example.com.": true, // ... and api.eu.bg.example.com in this one
		"example.com.":       true, // an enclosing zone
		"other.test.":        true,
		"sub.other.test.":    true,
		"example.org.":       false,
		"bg.example.org.":    false,
	} {
		if got := ScopeTouches(scope, zone); got != want {
			t.Errorf("touches %s: %v, want %v", zone, got, want)
		}
	}
	if !ScopeAllows(nil, "anything.test.") {
		t.Error("an empty scope must allow everything")
	}
	for _, bad := range []string{"a*.test", "bad..name", "", "x_y z.test"} {
		if _, e := normalizeScope([]string{bad}); e == nil {
			t.Errorf("scope %q accepted", bad)
		}
	}
}

func TestACLBootstrapOnce(t *testing.T) {
	c := newChain(t)
	r := c.must(Command{Op: OpACLBootstrap, RequestID: "boot-1", Token: &TokenSpec{ID: "tok-1", SecretHash: HashSecret(secretA)}})
	if r.Token == nil || r.Token.Role != RoleAdmin || r.Token.Name != BootstrapTokenName {
		t.Fatalf("bootstrap token: %+v", r.Token)
	}
	if ok, at := c.s.ACLBootstrapped(); !ok || at != c.index {
		t.Fatalf("bootstrapped %v at %d", ok, at)
	}
	// A retry of the same request is answered, not applied.
	if r := c.apply(Command{Op: OpACLBootstrap, RequestID: "boot-1", Token: &TokenSpec{ID: "tok-1", SecretHash: HashSecret(secretA)}}); !r.Duplicate {
		t.Fatalf("retry: %+v", r)
	}
	before := c.s
	r = c.apply(Command{Op: OpACLBootstrap, Token: &TokenSpec{ID: "tok-2", SecretHash: HashSecret("other")}})
	if CodeOf(r.Err) != CodeConflict || c.s != before {
		t.Fatalf("second bootstrap: %v", r.Err)
	}
	if tk := c.s.TokenByHash(HashSecret(secretA)); tk == nil || tk.ID != "tok-1" {
		t.Fatalf("lookup by hash: %+v", tk)
	}
	if c.s.TokenByHash(HashSecret("wrong")) != nil {
		t.Fatal("a wrong secret found a token")
	}
	// A bootstrap token cannot be made smaller or scoped.
	if r := c.apply(Command{Op: OpACLBootstrap, Token: &TokenSpec{ID: "t3", Role: RoleRead, SecretHash: HashSecret("x")}}); CodeOf(r.Err) != CodeInvalid {
		t.Fatalf("bootstrap with role read: %v", r.Err)
	}
}

func TestTokenCreateRevoke(t *testing.T) {
	c := newChain(t)
	r := c.must(tokenCmd(OpTokenCreate, "ci-1", "ci-api", RoleDeploy, secretA, "api.*.bg.example.test"))
	tk := r.Token
	if tk.Scope[0] != "api.*.bg.example.test." || tk.CreatedBy != "test" || tk.CreatedAt.IsZero() || tk.Index != c.index {
		t.Fatalf("token %+v", tk)
	}
	for _, cmd := range []Command{
		tokenCmd(OpTokenCreate, "ci-1", "x", RoleRead, "s2"),      // id taken
		tokenCmd(OpTokenCreate, "ci-2", "ci-api", RoleRead, "s3"), // name taken
		tokenCmd(OpTokenCreate, "ci-3", "y", RoleRead, secretA),   // secret taken
	} {
		if r := c.apply(cmd); CodeOf(r.Err) != CodeConflict {
			t.Errorf("%+v: %v", cmd.Token, r.Err)
		}
	}
	for _, cmd := range []Command{
		tokenCmd(OpTokenCreate, "UPPER", "x", RoleRead, "s4"),
		tokenCmd(OpTokenCreate, "ok", "", RoleRead, "s4"),
		tokenCmd(OpTokenCreate, "ok", "x", Role("root"), "s4"),
		tokenCmd(OpTokenCreate, "ok", "x", RoleRead, "s4", "a*b.test"),
		{Op: OpTokenCreate, Token: &TokenSpec{ID: "ok", Name: "x", Role: RoleRead, SecretHash: "plain-secret"}},
		{Op: OpTokenCreate},
	} {
		if r := c.apply(cmd); r.Err == nil {
			t.Errorf("%+v accepted", cmd.Token)
		}
	}
	c.must(Command{Op: OpTokenRevoke, Name: "ci-1"})
	if c.s.TokenByHash(HashSecret(secretA)) != nil || c.s.Token("ci-1") != nil || len(c.s.Tokens()) != 0 {
		t.Fatal("a revoked token is still found")
	}
	if r := c.apply(Command{Op: OpTokenRevoke, Name: "ci-1"}); CodeOf(r.Err) != CodeNotFound {
		t.Fatalf("revoking twice: %v", r.Err)
	}
	audit := c.s.Audit(0)
	if len(audit) < 2 || audit[0].Action != OpTokenRevoke || audit[0].Target != "ci-1" || audit[1].Action != OpTokenCreate ||
		audit[1].To != "ci-api deploy scope api.*.bg.example.test." || audit[0].From != audit[1].To {
		t.Fatalf("audit %+v", audit)
	}
}

// The secret itself appears nowhere: not in the log entry, the state, the
// snapshot or the audit.
func TestSecretNeverStored(t *testing.T) {
	c := newChain(t)
	cmd := tokenCmd(OpTokenCreate, "ci-1", "ci-api", RoleDeploy, secretA)
	entry, err := EncodeCommand(cmd)
	if err != nil {
		t.Fatal(err)
	}
	c.must(cmd)
	snap, err := MarshalState(c.s)
	if err != nil {
		t.Fatal(err)
	}
	for what, b := range map[string][]byte{"log entry": entry, "snapshot": snap} {
		if bytes.Contains(b, []byte(secretA)) {
			t.Errorf("the secret is in the %s", what)
		}
	}
	if !bytes.Contains(snap, []byte(HashSecret(secretA))) {
		t.Error("the snapshot lost the hash")
	}
	r, err := UnmarshalState(snap)
	if err != nil {
		t.Fatal(err)
	}
	if tk := r.TokenByHash(HashSecret(secretA)); tk == nil || tk.Name != "ci-api" {
		t.Fatalf("restored token %+v", tk)
	}
	if strings.Contains(HashSecret(secretA), secretA) {
		t.Fatal("hash holds the secret")
	}
}

// A retried create (same request id) carries a fresh id and secret from
// the proposer; it is answered with the first token, not applied.
func TestTokenCreateRetry(t *testing.T) {
	c := newChain(t)
	first := tokenCmd(OpTokenCreate, "id-1", "ci", RoleRead, "s1")
	first.RequestID = "mk-1"
	r1 := c.must(first)
	retry := tokenCmd(OpTokenCreate, "id-2", "ci", RoleRead, "s2")
	retry.RequestID = "mk-1"
	r2 := c.apply(retry)
	if !r2.Duplicate || r2.Token.ID != r1.Token.ID || len(c.s.Tokens()) != 1 {
		t.Fatalf("retry: %+v", r2)
	}
	other := Command{Op: OpTokenRevoke, Name: "id-1", RequestID: "mk-1"}
	if r := c.apply(other); CodeOf(r.Err) != CodeConflict {
		t.Fatalf("request id reused for another op: %v", r.Err)
	}
}

func TestScopedAdminTokenRefused(t *testing.T) {
	c := Command{Op: OpTokenCreate, Name: "x", Time: time.Unix(1, 0), Token: &TokenSpec{ID: "tok-scoped", Name: "x",
		Role: RoleAdmin, Scope: []string{"bg.example.test"}, SecretHash: HashSecret("s3cret-s3cret-s3cret")}}
	if e := c.Normalize(); e == nil || e.Code != CodeInvalid || !strings.Contains(e.Message, "no scope") {
		t.Fatalf("scoped admin token: %v", e)
	}
}
