package cluster

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
)

// testLogger discards logs unless BGDNS_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("BGDNS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

var testTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const (
	testZone = "bg.example.test."
	testSvc  = "api.bg.example.test."
)

func zonePut() control.Command {
	return control.Command{Op: control.OpZonePut, Name: testZone, Time: testTime, Actor: "test",
		Zone: &control.ZoneSpec{NS: []string{"ns1.example.net."}}}
}

func servicePut() control.Command {
	return control.Command{Op: control.OpServicePut, Name: testSvc, Time: testTime, Actor: "test",
		Service: &control.ServiceSpec{TTL: 5, Blue: &control.Pool{Version: "1.0",
			Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.11")}}}}
}

func deploy(version, addr string) control.Command {
	return control.Command{Op: control.OpDeploy, Name: testSvc, Time: testTime, Actor: "test",
		Deploy: &control.DeploySpec{Version: version, Addresses: []netip.Addr{netip.MustParseAddr(addr)}}}
}

func lifecycle(op control.Op) control.Command {
	return control.Command{Op: op, Name: testSvc, Time: testTime, Actor: "test"}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mustApply proposes cmd on n and fails the test on any error.
func mustApply(t *testing.T, n *Node, cmd control.Command) control.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := n.Propose(ctx, cmd)
	if err != nil {
		t.Fatalf("propose %s: %v", cmd.Op, err)
	}
	if res.Err != nil {
		t.Fatalf("apply %s: %v", cmd.Op, res.Err)
	}
	return res
}

func activeOf(s *control.State) control.Colour {
	if svc := s.Service(testSvc); svc != nil {
		return svc.Active
	}
	return ""
}

// settled waits until n has no switch awaiting its retire confirmation:
// after that, only new writes change its state.
func settled(t *testing.T, n *Node) {
	t.Helper()
	eventually(t, 10*time.Second, "retire confirmations committed", func() bool {
		return len(n.fsm.retire.snapshot()) == 0
	})
}
