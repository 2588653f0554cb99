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

// voterIDs is the sorted ids of the voters n reports in GET /v1/cluster.
func voterIDs(n *Node) ([]string, error) {
	r, err := CallE("GET", n.URL()+"/v1/cluster", nil)
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK {
		return nil, fmt.Errorf("GET /v1/cluster: %s", r)
	}
	var c struct {
		Members []struct {
			ID    string `json:"id"`
			Voter bool   `json:"voter"`
		} `json:"members"`
	}
	if err := json.Unmarshal(r.Body, &c); err != nil {
		return nil, err
	}
	var ids []string
	for _, m := range c.Members {
		if m.Voter {
			ids = append(ids, m.ID)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// Two of three nodes are lost for good. The survivor cannot lead alone;
// stopped, `bgdns recover` makes it the only voter; started again, it
// serves everything it held, takes writes, and grows back to three voters
// as two new nodes join.
func TestQuorumRecovery(t *testing.T) {
	c := StartCluster(t, 3, ClusterOptions{MaxStale: 2 * time.Second})
	leader := c.Leader()
	const services = 50
	for i := 0; i < services; i++ {
		leader.CLI("service", "put", fmt.Sprintf("r%02d.%s", i, testZone), "--ttl", "5",
			"--blue", fmt.Sprintf("10.3.0.%d", i+1), "--blue-version", "1.0")
	}
	survivor := c.Node("n1")
	c.EveryNode(10*time.Second, "every service everywhere", func(n *Node) error {
		if got := len(listServices(t, n)); got != services {
			return fmt.Errorf("%d services", got)
		}
		return nil
	})
	c.Node("n2").Kill9()
	c.Node("n3").Kill9()
	// On a running node, recover is refused: its bolt file is locked.
	voters := "n1=" + survivor.RaftAddr
	if r := RunCLI(t, "", "recover", "--data-dir", survivor.DataDir, "--voters", voters); r.Code == 0 || !strings.Contains(r.Stderr, "stop the node first") {
		t.Fatalf("recover on a running node: %s", r)
	}
	survivor.Stop()
	if r := RunCLI(t, "", "recover", "--data-dir", survivor.DataDir); r.Code == 0 || !strings.Contains(r.Stderr, "--voters") {
		t.Fatalf("recover without --voters: %s", r)
	}
	out := CLI(t, "", "recover", "--data-dir", survivor.DataDir, "--voters", voters)
	if !strings.Contains(out, "recovered") {
		t.Fatalf("recover printed %q", out)
	}
	survivor.Restart()
	if ids, err := voterIDs(survivor); err != nil || strings.Join(ids, ",") != "n1" {
		t.Fatalf("voters after recovery: %v %v", ids, err)
	}
	if got := len(listServices(t, survivor)); got != services {
		t.Fatalf("survivor lists %d services after recovery, want %d", got, services)
	}
	extra := "after." + testZone
	survivor.CLI("service", "put", extra, "--ttl", "5", "--blue", "10.4.0.1", "--blue-version", "1.0")

	// Grow back to three.
	grown := &Cluster{t: t, Nodes: []*Node{survivor}}
	for _, id := range []string{"n4", "n5"} {
		n := NewNode(t, NodeOptions{ID: id, Join: survivor.URL(), MaxStale: 2 * time.Second})
		n.Start()
		n.WaitReady()
		grown.Nodes = append(grown.Nodes, n)
	}
	grown.EveryNode(15*time.Second, "three voters, every service", func(n *Node) error {
		ids, err := voterIDs(n)
		if err != nil {
			return err
		}
		if strings.Join(ids, ",") != "n1,n4,n5" {
			return fmt.Errorf("voters %v", ids)
		}
		if got := len(listServices(t, n)); got != services+1 {
			return fmt.Errorf("%d services, want %d", got, services+1)
		}
		ans, err := DigE(n.DNSAddr, extra, "A")
		if err != nil {
			return err
		}
		return checkAddrs(ans, "A", 5, "10.4.0.1")
	})
	// The grown cluster survives the loss of one node: a write through the
	// rest still commits.
	grown.Node("n4").Kill9()
	eventually(t, 15*time.Second, "a write with n4 gone", func() error {
		for _, n := range grown.Running() {
			r, err := CallE("PUT", n.URL()+"/v1/services/late."+testZone,
				map[string]any{"ttl": 5, "blue": map[string]any{"version": "1.0", "addresses": []string{"10.5.0.1"}}})
			if err == nil && r.Status == http.StatusOK {
				return nil
			}
		}
		return fmt.Errorf("no write committed")
	})
}
