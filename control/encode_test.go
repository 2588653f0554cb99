package control

import (
	"bytes"
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
