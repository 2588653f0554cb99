package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Cluster is N bgdns processes forming one Raft cluster on loopback.
type Cluster struct {
	t     testing.TB
	Nodes []*Node
	CA    *TestCA // the cluster CA, with TLS
}

// ClusterOptions say how to start a cluster. Hosts, when set, gives each
// node its own loopback address (e.g. 127.0.0.71, .72, .73); otherwise all
// use 127.0.0.1 with different ports.
type ClusterOptions struct {
	Zone     string
	Hosts    []string
	MaxStale time.Duration
	Args     []string // more flags for every node
	Env      []string
	// TLS starts every node with a certificate of one CA made for the
	// cluster (Cluster.CA): mutual TLS for Raft, HTTPS for the API.
	TLS bool
	// Bin, when set, is the binary every node runs (NodeOptions.Bin).
	Bin string
}

// StartCluster starts n nodes: n1 bootstraps, the others join through n1's
// API, one after the other; it returns once every node is ready.
func StartCluster(t testing.TB, n int, o ClusterOptions) *Cluster {
	t.Helper()
	c := &Cluster{t: t}
	if o.TLS {
		c.CA = NewTestCA(t)
	}
	for i := 0; i < n; i++ {
		no := NodeOptions{
			ID:        fmt.Sprintf("n%d", i+1),
			Zone:      o.Zone,
			Bootstrap: i == 0,
			MaxStale:  o.MaxStale,
			Args:      o.Args,
			Env:       o.Env,
			TLS:       c.CA,
			Bin:       o.Bin,
		}
		if i < len(o.Hosts) {
			no.Host = o.Hosts[i]
		}
		if i > 0 {
			no.Join = c.Nodes[0].URL()
		}
		nd := NewNode(t, no)
		nd.Start()
		nd.WaitReady()
		c.Nodes = append(c.Nodes, nd)
	}
	return c
}

// Node returns the node with id, failing the test if there is none.
func (c *Cluster) Node(id string) *Node {
	for _, n := range c.Nodes {
		if n.ID == id {
			return n
		}
	}
	c.t.Fatalf("no node %q in the cluster", id)
	return nil
}

// Running returns the nodes whose process is alive.
func (c *Cluster) Running() []*Node {
	var out []*Node
	for _, n := range c.Nodes {
		if n.Running() {
			out = append(out, n)
		}
	}
	return out
}

// LeaderID asks node n who the leader is (GET /v1/cluster); "" if unknown.
func LeaderID(n *Node) (string, error) {
	code, b, err := httpGet(n.URL() + "/v1/cluster")
	if err != nil {
		return "", err
	}
	if code != http.StatusOK {
		return "", fmt.Errorf("GET /v1/cluster on %s: %d %s", n.ID, code, b)
	}
	var st struct {
		LeaderID string `json:"leader_id"`
		Leader   struct {
			ID string `json:"id"`
		} `json:"leader"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		// "leader" may be a plain string in some shapes.
		var alt struct {
			Leader string `json:"leader"`
		}
		if json.Unmarshal(b, &alt) == nil {
			return alt.Leader, nil
		}
		return "", fmt.Errorf("GET /v1/cluster on %s: %v: %s", n.ID, err, b)
	}
	if st.LeaderID != "" {
		return st.LeaderID, nil
	}
	return st.Leader.ID, nil
}

// Leader waits until every running node names the same leader, which is
// itself running, and returns it.
func (c *Cluster) Leader() *Node {
	c.t.Helper()
	var leader *Node
	eventually(c.t, 15*time.Second, "one leader agreed by every running node", func() error {
		running := c.Running()
		if len(running) == 0 {
			return fmt.Errorf("no node running")
		}
		var id string
		for _, n := range running {
			got, err := LeaderID(n)
			if err != nil {
				return err
			}
			if got == "" {
				return fmt.Errorf("%s knows no leader", n.ID)
			}
			if id != "" && got != id {
				return fmt.Errorf("leaders disagree: %s and %s", id, got)
			}
			id = got
		}
		for _, n := range running {
			if n.ID == id {
				leader = n
				return nil
			}
		}
		return fmt.Errorf("leader %s is not a running node", id)
	})
	return leader
}

// Followers returns the running nodes other than the leader.
func (c *Cluster) Followers() []*Node {
	c.t.Helper()
	l := c.Leader()
	var out []*Node
	for _, n := range c.Running() {
		if n != l {
			out = append(out, n)
		}
	}
	return out
}

// RestartAll restarts every stopped node at once (a restarted node cannot
// be ready until a quorum is back) and waits until all are ready.
func (c *Cluster) RestartAll() {
	c.t.Helper()
	var started []*Node
	for _, n := range c.Nodes {
		if !n.Running() {
			n.RestartNoWait()
			started = append(started, n)
		}
	}
	c.WaitReady(started...)
}

// WaitReady waits until the given nodes (all when none given) are ready.
func (c *Cluster) WaitReady(nodes ...*Node) {
	c.t.Helper()
	if len(nodes) == 0 {
		nodes = c.Nodes
	}
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.waitReady(30 * time.Second)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			c.t.Fatalf("%s not ready: %v\n%s", nodes[i].ID, err, nodes[i].LogTail(60))
		}
		nodes[i].wasReady = true
	}
}

// EveryNode polls until check passes on every running node at the same
// time, failing the test with the last mismatch after timeout.
func (c *Cluster) EveryNode(timeout time.Duration, what string, check func(n *Node) error) {
	c.t.Helper()
	eventually(c.t, timeout, what, func() error {
		var errs []error
		for _, n := range c.Running() {
			if err := check(n); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", n.ID, err))
			}
		}
		return errors.Join(errs...)
	})
}
