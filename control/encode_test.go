package control

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

func buildSample(t *testing.T) *State {
	c := newChain(t)
	putAPI(c)
	c.must(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2.0", Addresses: addrs("10.0.0.21", "2001:db8::21")}})
	c.must(Command{Op: OpSwitch, Name: api, RequestID: "sw-1", Reason: "tests passed"})
	return c.s
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := buildSample(t)
	b, err := MarshalState(s)
	if err != nil {
		t.Fatal(err)
	}
	r, err := UnmarshalState(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := MarshalState(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Fatalf("round trip differs:\n%s\n%s", b, b2)
	}
	if r.Index() != s.Index() || r.Service(api).Active != Green {
		t.Fatalf("restored: index %d, service %+v", r.Index(), r.Service(api))
	}
	// a restored state still de-duplicates and keeps applying
	ns, res := r.Apply(Command{Op: OpSwitch, Name: api, RequestID: "sw-1"}, r.Index()+1)
	if !res.Duplicate || ns != r {
		t.Fatalf("dedup lost in snapshot: %+v", res)
	}
}

func TestSnapshotV1FixtureStillRestores(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "snapshots", "control-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := UnmarshalState(b)
	if err != nil {
		t.Fatal(err)
	}
	svc := s.Service(api)
	if svc == nil || svc.Active != Green || svc.State != PhaseValidating || svc.Green.Version != "2.0" {
		t.Fatalf("fixture service: %+v", svc)
	}
	if recs, ok := s.History(api, 0); !ok || len(recs) != 3 {
		t.Fatalf("fixture history: %v", recs)
	}
}

func TestUnmarshalRejectsUnknownFormat(t *testing.T) {
	for _, in := range []string{`{"format":99}`, `not json`, `{"format":1,"zones":"x"}`} {
		if _, err := UnmarshalState([]byte(in)); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

func TestApplyIsDeterministic(t *testing.T) {
	a, _ := MarshalState(buildSample(t))
	b, _ := MarshalState(buildSample(t))
	if !bytes.Equal(a, b) {
		t.Fatal("the same commands gave different states")
	}
}

func TestCommandEncoding(t *testing.T) {
	cmd := Command{Op: OpDeploy, Name: api, RequestID: "x", Deploy: &DeploySpec{Version: "2", Addresses: addrs("10.0.0.1")}}
	b, err := EncodeCommand(cmd)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeCommand(b)
	if err != nil || got.Op != cmd.Op || got.Deploy.Addresses[0] != cmd.Deploy.Addresses[0] {
		t.Fatalf("decode: %+v %v", got, err)
	}
	if _, err := DecodeCommand([]byte("{")); err == nil {
		t.Fatal("no error on garbage")
	}
}

// An empty state encodes the same before and after a round trip (a restored
// node's snapshot must be byte-identical to the leader's).
func TestEmptyStateRoundTripIsStable(t *testing.T) {
	a, _ := MarshalState(Empty())
	s, err := UnmarshalState(a)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := MarshalState(s)
	if !bytes.Equal(a, b) {
		t.Fatalf("round trip of an empty state:\n%s\n%s", a, b)
	}
}

var updateFixtures = flag.Bool("update", false, "rewrite the snapshot fixture of the current format")

// buildSampleV2 is buildSample with what format 2 added: ACL bootstrap, a
// scoped token and audit records.
func buildSampleV2(t *testing.T) *State {
	c := newChain(t)
	putAPI(c)
	c.must(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2.0", Addresses: addrs("10.0.0.21", "2001:db8::21")}})
	c.must(Command{Op: OpSwitch, Name: api, RequestID: "sw-1", Reason: "tests passed"})
	c.must(Command{Op: OpACLBootstrap, Token: &TokenSpec{ID: "boot", SecretHash: HashSecret("fixture-bootstrap-secret")}})
	c.must(tokenCmd(OpTokenCreate, "ci", "ci-api", RoleDeploy, "fixture-ci-secret", "api.*.bg.example.test"))
	c.must(Command{Op: OpMemberJoin, Name: "n2", RequestID: "join-n2", Member: &MemberSpec{RaftAddr: "127.0.0.72:7053"}})
	return c.s
}

func TestSnapshotV2FixtureStillRestores(t *testing.T) {
	path := filepath.Join("..", "testdata", "snapshots", "control-v2.json")
	if *updateFixtures {
		b, err := MarshalState(buildSampleV2(t))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", "    "); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(out.Bytes(), '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("fixture missing (run with -update once when adding a format): %v", err)
	}
	s, err := UnmarshalState(b)
	if err != nil {
		t.Fatal(err)
	}
	if svc := s.Service(api); svc == nil || svc.Active != Green || svc.Green.Version != "2.0" {
		t.Fatalf("fixture service: %+v", svc)
	}
	if ok, at := s.ACLBootstrapped(); !ok || at != 5 {
		t.Fatalf("bootstrapped %v at %d", ok, at)
	}
	tk := s.TokenByHash(HashSecret("fixture-ci-secret"))
	if tk == nil || tk.ID != "ci" || tk.Role != RoleDeploy || len(tk.Scope) != 1 || !tk.Allows("api.eu.bg.example.test.") {
		t.Fatalf("fixture token: %+v", tk)
	}
	if a := s.Audit(0); len(a) != 4 || a[0].Action != OpMemberJoin || a[3].Action != OpZonePut {
		t.Fatalf("fixture audit: %+v", a)
	}
	// The remembered join is still de-duplicated.
	_, res := s.Apply(Command{Op: OpMemberJoin, Name: "n2", RequestID: "join-n2"}, s.Index()+1)
	if !res.Duplicate {
		t.Fatalf("retried join after restore: %+v", res)
	}
	// A fixture of the current format re-encodes to the same state.
	again, _ := MarshalState(s)
	s2, err := UnmarshalState(again)
	if err != nil || len(s2.Tokens()) != 2 {
		t.Fatalf("re-encoded: %v %d", err, len(s2.Tokens()))
	}
}

// A v1 snapshot (before ACLs) restores with ACLs not bootstrapped.
func TestV1SnapshotHasNoACL(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "snapshots", "control-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := UnmarshalState(b)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.ACLBootstrapped(); ok || len(s.Tokens()) != 0 || len(s.Audit(0)) != 0 || s.Size() == 0 {
		t.Fatalf("v1 state: bootstrapped %v, tokens %d, size %d", ok, len(s.Tokens()), s.Size())
	}
	out, _ := MarshalState(s)
	if !bytes.Contains(out, []byte(`"format":2`)) {
		t.Fatalf("re-encoded in %s", out[:40])
	}
}
