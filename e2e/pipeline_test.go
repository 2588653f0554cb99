package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a process writing and a test reading.
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

// pipelineZone lets the zone's pools hold loopback addresses (the health
// backends) and gives it a negative TTL of 1s, so that the retire
// watermark is a second after every node confirmed the switch.
func pipelineZone(t *testing.T, n *Node) {
	t.Helper()
	var z map[string]any
	Expect(t, http.StatusOK, "GET", n.URL()+"/v1/zones/"+testZone, nil).Decode(t, &z)
	z["allow_loopback"] = true
	if soa, ok := z["soa"].(map[string]any); ok {
		soa["minimum"] = 1
	}
	Expect(t, http.StatusOK, "PUT", n.URL()+"/v1/zones/"+testZone, z)
}

// serviceNow reads the service from n, or says why it cannot.
func serviceNow(n *Node) (ServiceJSON, error) {
	var s ServiceJSON
	r, err := CallE("GET", n.URL()+"/v1/services/"+svcName, nil)
	if err != nil {
		return s, err
	}
	if r.Status != http.StatusOK {
		return s, fmt.Errorf("%s", r)
	}
	return s, json.Unmarshal(r.Body, &s)
}

// historyNow reads the service's history from n.
func historyNow(n *Node) ([]RecordJSON, error) {
	r, err := CallE("GET", n.URL()+"/v1/services/"+svcName+"/history", nil)
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK {
		return nil, fmt.Errorf("%s", r)
	}
	var recs []RecordJSON
	return recs, decodeList(r.Body, &recs, "records")
}

// TestPipelineScriptSurvivesANodeRestart runs docs/examples/pipeline.sh
// (deploy, switch --wait-healthy, rollback, switch, complete --wait-safe)
// against three real nodes, with --server listing all three, and kills
// the first of the list in the middle of it: after the deploy, while the
// switch waits for the new colour's health gate (which the test opens
// only after the kill, so every later step runs without that node or
// while it restarts). The script, which has no retry logic of its own,
// succeeds, and every step is in the history exactly once.
func TestPipelineScriptSurvivesANodeRestart(t *testing.T) {
	requireE2E(t, "dig", "sh")
	const blueIP, greenIP = "127.0.0.131", "127.0.0.141"
	port := freeHealthPort(t, blueIP, greenIP)
	blue := &backend{addr: net.JoinHostPort(blueIP, strconv.Itoa(port))}
	green := &backend{addr: net.JoinHostPort(greenIP, strconv.Itoa(port))}
	blue.up(t)

	c := StartCluster(t, 3, ClusterOptions{})
	n1, n2 := c.Nodes[0], c.Nodes[1]
	pipelineZone(t, n1)
	n1.CLI("service", "put", svcName, "--ttl", "1", "--blue", blueIP, "--blue-version", "1.0",
		"--health-type", "http", "--health-port", strconv.Itoa(port), "--health-path", "/healthz",
		"--health-interval", "200ms", "--health-timeout", "100ms", "--health-rise", "1", "--health-fall", "2",
		"--min-healthy", "1")

	servers := strings.Join([]string{n1.URL(), n2.URL(), c.Nodes[2].URL()}, ",")
	script, err := filepath.Abs("../docs/examples/pipeline.sh")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second*slow)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", script)
	cmd.Env = append(cleanEnv(), "BGDNS="+binPath, "BGDNS_SERVER="+servers, "BGDNS_ACTOR=pipeline",
		"SERVICE="+svcName, "VERSION=2.0", "ADDRS="+greenIP,
		"HEALTH_TIMEOUT=60s", "WAIT_TIMEOUT=45s", "RETIRE_TIMEOUT=45s")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	scriptDone := func() error {
		select {
		case err := <-exited:
			exited <- err
			return permanent{fmt.Errorf("the script ended early (%v):\n%s", err, out.String())}
		default:
			return nil
		}
	}

	// The deploy is in; the switch now waits for green's health gate.
	eventually(t, 30*time.Second, "green deployed", func() error {
		if err := scriptDone(); err != nil {
			return err
		}
		s, err := serviceNow(n2)
		if err != nil {
			return err
		}
		if s.Green == nil || s.Green.Version != "2.0" {
			return fmt.Errorf("green is %+v", s.Green)
		}
		return nil
	})
	leader, _ := LeaderID(n2)
	t.Logf("killing %s (the first server of the list; leader %s)", n1.ID, leader)
	n1.Kill9()
	if err := scriptDone(); err != nil {
		t.Fatal(err)
	}
	green.up(t)

	// Once the first switch is in, bring n1 back: the switch's --wait
	// waits for it.
	eventually(t, 60*time.Second, "the switch to green committed", func() error {
		if err := scriptDone(); err != nil {
			return err
		}
		recs, err := historyNow(n2)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if r.Action == "switch" {
				return nil
			}
		}
		return errors.New("no switch yet")
	})
	n1.Restart()

	var werr error
	select {
	case werr = <-exited:
	case <-ctx.Done():
		t.Fatalf("the script did not finish:\n%s", out.String())
	}
	log := out.String()
	t.Logf("pipeline output:\n%s", log)
	if werr != nil {
		t.Fatalf("pipeline.sh failed: %v", werr)
	}
	for _, want := range []string{
		"==> released 2.0 of " + svcName,
		"waiting for green's health gate",  // the gate was closed when the switch began
		"waiting for the retire watermark", // complete had to wait
	} {
		if !strings.Contains(log, want) {
			t.Errorf("pipeline output lacks %q", want)
		}
	}

	// Every step once, in order, newest first, by the pipeline (on every
	// node: a node that was down has caught up).
	want := []string{"complete ", "switch green", "rollback blue", "switch green", "deploy "}
	c.EveryNode(20*time.Second, "the pipeline's steps in the history, each once", func(n *Node) error {
		recs, err := historyNow(n)
		if err != nil {
			return err
		}
		var got []string
		for _, r := range recs {
			if r.Actor == "pipeline" && r.Action != "service.put" {
				got = append(got, r.Action+" "+r.To)
			}
		}
		if !sameActions(got, want) {
			return fmt.Errorf("history of the pipeline's steps: %q, want %q", got, want)
		}
		return nil
	})
	c.EveryNode(20*time.Second, "every node answers green", func(n *Node) error {
		a, err := DigE(n.DNSAddr, svcName, "A")
		if err != nil {
			return err
		}
		return checkAddrs(a, "A", 1, greenIP)
	})
}

// sameActions compares "action to" pairs, ignoring the "to" of records
// that have none in want.
func sameActions(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range want {
		if strings.HasSuffix(want[i], " ") {
			if !strings.HasPrefix(got[i], want[i]) {
				return false
			}
		} else if got[i] != want[i] {
			return false
		}
	}
	return true
}
