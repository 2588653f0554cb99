package e2e

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The cluster tests run three real bgdns processes, each on its own
// loopback address, and check every node's answers with dig.

var clusterHosts = []string{"127.0.0.71", "127.0.0.72", "127.0.0.73"}

// waitJSON is the part of a mutation's JSON that reports a wait=all.
type waitJSON struct {
	Index uint64 `json:"index"`
	Wait  *struct {
		Complete bool     `json:"complete"`
		Index    uint64   `json:"index"`
		Lagging  []string `json:"lagging"`
		Nodes    []struct {
			ID      string `json:"id"`
			Applied uint64 `json:"applied_index"`
		} `json:"nodes"`
	} `json:"wait"`
	Service ServiceJSON `json:"service"`
}

// startBlueGreen starts a 3-node cluster with api.bg.example.test created
// (blue) and 2.0 deployed onto green, both through a follower.
func startBlueGreen(t *testing.T) (*Cluster, *Node) {
	t.Helper()
	c := StartCluster(t, 3, ClusterOptions{Hosts: clusterHosts, MaxStale: 2 * time.Second})
	f := c.Followers()[0]
	f.CLI("service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	f.CLI("deploy", svcName, "--version", "2.0", "--addr", greenV4[0], "--addr", greenV6[0])
	return c, f
}

// checkColour is nil when n answers the live name with want's addresses.
func checkColour(n *Node, want []string) error {
	a, err := DigE(n.DNSAddr, svcName, "A")
	if err != nil {
		return err
	}
	return checkAddrs(a, "A", 5, want...)
}

func TestClusterSwitchThroughFollowerWaitAll(t *testing.T) {
	c, f := startBlueGreen(t)
	c.EveryNode(10*time.Second, "blue everywhere", func(n *Node) error { return checkColour(n, blueV4) })

	var res waitJSON
	CLIJSON(t, f.URL(), &res, "switch", svcName, "--reason", "2.0 passed tests", "--wait")
	if res.Wait == nil || !res.Wait.Complete || len(res.Wait.Nodes) != 3 || len(res.Wait.Lagging) != 0 {
		t.Fatalf("switch --wait through follower %s: want every node listed and none lagging: %+v", f.ID, res)
	}
	for _, nd := range res.Wait.Nodes {
		if nd.Applied < res.Index {
			t.Errorf("wait=all listed %s at applied %d, below the switch at %d", nd.ID, nd.Applied, res.Index)
		}
	}
	// The call returned, so every node answers green now: one dig each, no retry.
	var wg sync.WaitGroup
	errs := make([]error, len(c.Nodes))
	for i, n := range c.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = checkColour(n, greenV4)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s right after switch --wait: %v", c.Nodes[i].ID, err)
		}
	}

	// The cluster as `bgdns cluster members` and GET /v1/cluster show it.
	members := f.CLI("cluster", "members")
	for _, n := range c.Nodes {
		if !strings.Contains(members, n.ID) {
			t.Errorf("bgdns cluster members: %s missing\n%s", n.ID, members)
		}
	}
	l := c.Leader()
	var st struct {
		Leader *struct {
			ID string `json:"id"`
		} `json:"leader"`
		Members []struct {
			ID      string `json:"id"`
			Applied uint64 `json:"applied_index"`
		} `json:"members"`
	}
	Call(t, "GET", f.URL()+"/v1/cluster", nil).Decode(t, &st)
	if st.Leader == nil || st.Leader.ID != l.ID || len(st.Members) != 3 {
		t.Fatalf("GET /v1/cluster on %s: %+v", f.ID, st)
	}
	for _, m := range st.Members {
		if m.Applied < res.Index {
			t.Errorf("GET /v1/cluster: %s at applied %d, below %d", m.ID, m.Applied, res.Index)
		}
	}
}

func TestClusterLeaderKilled(t *testing.T) {
	c, f := startBlueGreen(t)
	var sw waitJSON
	CLIJSON(t, f.URL(), &sw, "switch", svcName, "--wait")
	if sw.Wait == nil || !sw.Wait.Complete {
		t.Fatalf("switch --wait: %+v", sw)
	}
	old := c.Leader()
	old.Kill9()

	// A survivor accepts a rollback within a few seconds.
	survivor := c.Running()[0]
	killed := time.Now()
	var rb HTTPResult
	eventually(t, 10*time.Second, "rollback accepted by a survivor", func() error {
		r, err := CallE("POST", survivor.URL()+"/v1/services/"+svcName+"/rollback",
			map[string]any{"request_id": "rollback-after-kill", "reason": "leader lost"})
		if err != nil {
			return err
		}
		if r.Status != http.StatusOK {
			return fmt.Errorf("%s", r)
		}
		rb = r
		return nil
	})
	t.Logf("rollback accepted %s after kill -9 of the leader", time.Since(killed).Round(time.Millisecond))
	m, err := decodeMutation(rb.Body)
	if err != nil || m.Service.Active != "blue" {
		t.Fatalf("rollback: %v %+v", err, m.Service)
	}
	c.EveryNode(10*time.Second, "blue on the survivors", func(n *Node) error { return checkColour(n, blueV4) })

	// The old leader comes back: from the first answer it gives, it never
	// answers green (SERVFAIL while it catches up is fine; so is blue
	// labelled stale, with its TTL capped, before it has confirmed with the
	// new leader that it is current).
	old.RestartNoWait()
	deadline := time.Now().Add(30 * time.Second * slow)
	for {
		a, err := DigE(old.DNSAddr, svcName, "A", "+tries=1", "+time=1")
		if err == nil && a.Status == "NOERROR" {
			ttl := uint32(5)
			if strings.Contains(a.Raw, "EDE: 3 (Stale Answer)") {
				ttl = 1
			}
			if err := checkAddrs(a, "A", ttl, blueV4...); err != nil {
				t.Fatalf("restarted old leader answered other than blue: %v\n%s", err, a.Raw)
			}
			if old.Ready() {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("old leader did not come back answering blue\n%s", old.LogTail(40))
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.EveryNode(10*time.Second, "blue everywhere after the old leader's return", func(n *Node) error { return checkColour(n, blueV4) })
}

func TestClusterKillAllRestart(t *testing.T) {
	c, _ := startBlueGreen(t)
	// A run of acknowledged changes, each through a different node.
	steps := [][]string{
		{"switch", svcName, "--reason", "to green"},
		{"complete", svcName},
		{"deploy", svcName, "--version", "3.0", "--addr", "10.0.0.31"},
		{"switch", svcName, "--reason", "to blue 3.0"},
		{"rollback", svcName, "--reason", "back to green"},
		{"deploy", svcName, "--version", "3.1", "--addr", "10.0.0.32"},
		{"switch", svcName, "--reason", "3.1 live"},
	}
	for i, s := range steps {
		c.Nodes[i%len(c.Nodes)].CLI(s...)
	}
	ref := c.Nodes[0]
	want := []string{"10.0.0.32"}
	c.EveryNode(10*time.Second, "3.1 live everywhere", func(n *Node) error { return checkColour(n, want) })
	svcBefore := GetService(t, ref.URL(), svcName)
	histBefore := GetHistory(t, ref.URL(), svcName)

	for _, n := range c.Nodes {
		n.Kill9()
	}
	c.RestartAll()
	for _, n := range c.Nodes {
		if err := checkColour(n, want); err != nil {
			t.Errorf("%s after kill -9 of all and restart: %v", n.ID, err)
		}
		if s := GetService(t, n.URL(), svcName); !reflect.DeepEqual(s, svcBefore) {
			t.Errorf("%s: service changed across restart:\nbefore %+v\nafter  %+v", n.ID, svcBefore, s)
		}
		if h := GetHistory(t, n.URL(), svcName); !reflect.DeepEqual(h, histBefore) {
			t.Errorf("%s: history changed across restart (%d records before, %d after)", n.ID, len(histBefore), len(h))
		}
	}
	// And the cluster still commits.
	c.Nodes[1].CLI("rollback", svcName, "--wait")
	// Every node applied it; a node whose confirmation is a moment late
	// answers green already, labelled stale with a short TTL, so poll.
	c.EveryNode(10*time.Second, "green everywhere after rollback --wait", func(n *Node) error { return checkColour(n, greenV4) })
}

func TestClusterRemoveMember(t *testing.T) {
	c, _ := startBlueGreen(t)
	l := c.Leader()
	gone := c.Followers()[0]
	c.EveryNode(10*time.Second, "blue everywhere", func(n *Node) error { return checkColour(n, blueV4) })
	// Removed through the other follower's API, which sends it to the leader.
	var via *Node
	for _, n := range c.Nodes {
		if n != l && n != gone {
			via = n
		}
	}
	via.CLI("cluster", "remove", gone.ID)
	eventually(t, 10*time.Second, "the removed node answers SERVFAIL", func() error {
		a, err := DigE(gone.DNSAddr, svcName, "A", "+tries=1", "+time=1")
		if err != nil {
			return err
		}
		if a.Status != "SERVFAIL" {
			return fmt.Errorf("status %s", a.Status)
		}
		return nil
	})
	if gone.Ready() {
		t.Error("/readyz still 200 on the removed node")
	}
	if members := l.CLI("cluster", "members"); strings.Contains(members, gone.ID) {
		t.Errorf("removed node still listed:\n%s", members)
	}
	// The two left still commit and wait for each other only.
	var sw waitJSON
	CLIJSON(t, l.URL(), &sw, "switch", svcName, "--wait")
	if sw.Wait == nil || !sw.Wait.Complete || len(sw.Wait.Nodes) != 2 {
		t.Fatalf("switch --wait after remove: %+v", sw)
	}
}

// pause stops or continues a node's process (SIGSTOP/SIGCONT): to the
// others it looks like a network partition, without losing any state.
func pause(t *testing.T, n *Node, stop bool) {
	t.Helper()
	n.mu.Lock()
	cmd := n.cmd
	n.mu.Unlock()
	sig := syscall.SIGCONT
	if stop {
		sig = syscall.SIGSTOP
	}
	if cmd == nil || cmd.Process.Signal(sig) != nil {
		t.Fatalf("%s: cannot send %v", n.ID, sig)
	}
}

// TestClusterCutOffNodeServesStale: under the default stale policy a node
// cut off from its leader keeps answering its last colour, labelled stale
// (Extended DNS Error 3, TTLs capped at --stale-ttl), and /readyz says
// "stale" with a 200 so that load balancers keep it.
func TestClusterCutOffNodeServesStale(t *testing.T) {
	f := cutOffNode(t, nil, func(n *Node) error {
		a, err := DigE(n.DNSAddr, svcName, "A", "+tries=1", "+time=1")
		if err != nil {
			return err
		}
		if !strings.Contains(a.Raw, "EDE: 3 (Stale Answer)") {
			return fmt.Errorf("no stale label\n%s", a.Raw)
		}
		return checkAddrs(a, "A", 1, blueV4...)
	})
	if code, status, err := f.Readyz(); err != nil || code != http.StatusOK || status != "stale" {
		t.Errorf("/readyz on a node cut off from its leader: %d %q %v, want 200 stale", code, status, err)
	}
}

// TestClusterCutOffNodeStopsAnswering: with --stale-policy servfail a node
// cut off from its leader answers SERVFAIL after max-stale, so resolvers
// ask another nameserver, and /readyz is 503.
func TestClusterCutOffNodeStopsAnswering(t *testing.T) {
	f := cutOffNode(t, []string{"--stale-policy", "servfail"}, func(n *Node) error {
		a, err := DigE(n.DNSAddr, svcName, "A", "+tries=1", "+time=1")
		if err != nil {
			return err
		}
		if a.Status != "SERVFAIL" {
			return fmt.Errorf("status %s", a.Status)
		}
		return nil
	})
	if code, _, err := f.Readyz(); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("/readyz on a node cut off from its leader: %d %v, want 503", code, err)
	}
}

// cutOffNode freezes two of three nodes, waits until the third answers as
// cut off (check), runs the test's checks through the returned node, then
// thaws the two and checks the third takes part in commits again.
func cutOffNode(t *testing.T, args []string, check func(n *Node) error) *Node {
	t.Helper()
	c := StartCluster(t, 3, ClusterOptions{Hosts: clusterHosts, MaxStale: time.Second, Args: args})
	f := c.Followers()[0]
	f.CLI("service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	c.EveryNode(10*time.Second, "blue everywhere", func(n *Node) error { return checkColour(n, blueV4) })

	// Freeze the two others: f hears from no leader.
	var others []*Node
	for _, n := range c.Nodes {
		if n != f {
			others = append(others, n)
		}
	}
	for _, n := range others {
		pause(t, n, true)
	}
	t.Cleanup(func() {
		for _, n := range others {
			n.mu.Lock()
			if n.cmd != nil {
				_ = n.cmd.Process.Signal(syscall.SIGCONT)
			}
			n.mu.Unlock()
		}
	})
	eventually(t, 10*time.Second, "the cut-off node answering as cut off", func() error { return check(f) })
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		for _, n := range others {
			pause(t, n, false)
		}
		c.EveryNode(15*time.Second, "blue, current, everywhere once the cluster is whole", func(n *Node) error { return checkColour(n, blueV4) })
		c.Leader() // the election the cut-off node started may still be settling
		// And it takes part in commits again.
		f.CLI("deploy", svcName, "--version", "2.0", "--addr", greenV4[0])
		f.CLI("switch", svcName, "--wait")
		for _, n := range c.Nodes {
			if err := checkColour(n, greenV4); err != nil {
				t.Errorf("%s after switch --wait: %v", n.ID, err)
			}
		}
	})
	return f
}
