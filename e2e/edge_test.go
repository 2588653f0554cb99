package e2e

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// edgeCount is how many edge nodes TestEdgeNodes runs beside its three
// voters: 3 by default, BGDNS_E2E_EDGES to change it (make bench-edges
// runs 10, for 13 processes).
func edgeCount(t *testing.T) int {
	s := os.Getenv("BGDNS_E2E_EDGES")
	if s == "" {
		return 3
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 2 {
		t.Fatalf("BGDNS_E2E_EDGES=%q: want a number of at least 2", s)
	}
	return n
}

// memberJSON is one member as GET /v1/cluster and wait=all list it.
type memberJSON struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	Voter   bool   `json:"voter"`
	Applied uint64 `json:"applied_index"`
}

// edgeWaitJSON is a mutation's answer with its wait=all report.
type edgeWaitJSON struct {
	Index uint64 `json:"index"`
	Wait  *struct {
		Complete bool         `json:"complete"`
		Lagging  []string     `json:"lagging"`
		Nodes    []memberJSON `json:"nodes"`
	} `json:"wait"`
}

// clusterMembers reads GET /v1/cluster on n: the leader's id and the members.
func clusterMembers(t *testing.T, n *Node) (string, []memberJSON) {
	t.Helper()
	var st struct {
		Leader *struct {
			ID string `json:"id"`
		} `json:"leader"`
		Members []memberJSON `json:"members"`
	}
	Expect(t, http.StatusOK, "GET", n.URL()+"/v1/cluster", nil).Decode(t, &st)
	if st.Leader == nil {
		return "", st.Members
	}
	return st.Leader.ID, st.Members
}

func ids(nodes []*Node) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.ID)
	}
	slices.Sort(out)
	return out
}

// flipWaitAll posts op (switch or rollback) with wait=all through n and
// returns the status and the decoded answer.
func flipWaitAll(t *testing.T, n *Node, op, timeout, reqID string) (int, edgeWaitJSON) {
	t.Helper()
	r := Call(t, "POST", n.URL()+"/v1/services/"+svcName+"/"+op+"?wait=all&wait_timeout="+timeout,
		map[string]any{"reason": "edge test", "request_id": reqID})
	var w edgeWaitJSON
	if r.Status == http.StatusOK || r.Status == http.StatusGatewayTimeout {
		r.Decode(t, &w)
	} else {
		t.Fatalf("%s", r)
	}
	if w.Wait == nil {
		t.Fatalf("%s: no wait report", r)
	}
	return r.Status, w
}

// everyNodeAnswers digs every given node once, concurrently, and fails
// the test for each that does not answer want.
func everyNodeAnswers(t *testing.T, nodes []*Node, want []string, what string) {
	t.Helper()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = checkColour(n, want)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s %s: %v", nodes[i].ID, what, err)
		}
	}
}

// nsNameOf is the --ns-name TestEdgeNodes gives node id.
func nsNameOf(id string) string { return "ns-" + id + "." + testZone }

// autoNSWant is the NS set a zone with "ns":"auto" should have: the
// voters' names, then the edges', each by id, at most 13.
func autoNSWant(voters, edges []*Node) []string {
	var out []string
	for _, group := range [][]*Node{voters, edges} {
		for _, id := range ids(group) {
			out = append(out, nsNameOf(id))
		}
	}
	out = out[:min(len(out), 13)]
	slices.Sort(out)
	return out
}

// checkNS is nil when n answers the zone's NS query with want (sorted).
func checkNS(n *Node, want []string) error {
	a, err := DigE(n.DNSAddr, testZone, "NS", "+tries=1", "+time=2")
	if err != nil {
		return err
	}
	if got := a.Values("NS"); !slices.Equal(got, want) {
		return fmt.Errorf("NS %v, want %v", got, want)
	}
	return nil
}

// TestEdgeNodes runs three voters and edge nodes (`serve --role edge`),
// real processes all: the edges are listed with role edge, forward
// writes, count for wait=all (which names every node), follow the stale
// policy when every voter is frozen, never lead when the leader dies,
// and stop counting once removed. Every node has an --ns-name, and the
// zone, put with "ns":"auto", lists them as its NS set.
func TestEdgeNodes(t *testing.T) {
	nEdges := edgeCount(t)
	start := time.Now()
	step := func(what string) { t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), what) }
	c := &Cluster{t: t}
	for i, host := range clusterHosts {
		id := fmt.Sprintf("n%d", i+1)
		o := NodeOptions{ID: id, Host: host, Bootstrap: i == 0, MaxStale: time.Second, Args: []string{"--ns-name", nsNameOf(id)}}
		if i > 0 {
			o.Join = c.Nodes[0].URL()
		}
		c.Nodes = append(c.Nodes, StartNode(t, o))
	}
	voters := slices.Clone(c.Nodes)
	var edges []*Node
	for i := 0; i < nEdges; i++ {
		id := fmt.Sprintf("e%d", i+1)
		e := NewNode(t, NodeOptions{ID: id, Join: voters[i%3].URL(), MaxStale: time.Second,
			Args: []string{"--role", "edge", "--ns-name", nsNameOf(id)}})
		e.Start()
		edges = append(edges, e)
	}
	c.WaitReady(edges...)
	c.Nodes = append(c.Nodes, edges...)
	all := ids(c.Nodes)

	step("started")
	// Every node lists every member with its role; the leader is a voter.
	leader := c.Leader()
	if !slices.Contains(voters, leader) {
		t.Fatalf("leader %s is not one of the voters", leader.ID)
	}
	for _, n := range []*Node{voters[1], edges[0], edges[nEdges-1]} {
		lid, members := clusterMembers(t, n)
		var got []string
		for _, m := range members {
			got = append(got, m.ID)
			wantRole := "voter"
			if strings.HasPrefix(m.ID, "e") {
				wantRole = "edge"
			}
			if m.Role != wantRole || m.Voter != (wantRole == "voter") {
				t.Errorf("GET /v1/cluster on %s: %s has role %q voter %v, want %s", n.ID, m.ID, m.Role, m.Voter, wantRole)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, all) || lid != leader.ID {
			t.Fatalf("GET /v1/cluster on %s: leader %q members %v, want %s and %v", n.ID, lid, got, leader.ID, all)
		}
	}

	step("roles listed")
	// The zone's NS set follows the members' --ns-name, with glue.
	Expect(t, http.StatusOK, "PUT", edges[0].URL()+"/v1/zones/"+testZone, map[string]any{"ns": "auto"})
	wantNS := autoNSWant(voters, edges)
	c.EveryNode(15*time.Second, "the members' NS names everywhere", func(n *Node) error { return checkNS(n, wantNS) })
	if a := Dig(t, edges[0].DNSAddr, testZone, "NS"); !isSubset([]string{"127.0.0.71", "127.0.0.72", "127.0.0.73"}, a.AdditionalValues("A")) {
		t.Errorf("NS answer without the voters' glue:\n%s", a.Raw)
	}

	step("ns auto")
	// Writes through an edge are forwarded to the leader; a switch with
	// wait=all through an edge is confirmed on every member, edges too.
	via := edges[0]
	via.CLI("service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	via.CLI("deploy", svcName, "--version", "2.0", "--addr", greenV4[0], "--addr", greenV6[0])
	c.EveryNode(15*time.Second, "blue everywhere", func(n *Node) error { return checkColour(n, blueV4) })
	status, sw := flipWaitAll(t, via, "switch", "20s", "edge-switch-1")
	var listed []string
	for _, nd := range sw.Wait.Nodes {
		listed = append(listed, nd.ID)
		if nd.Applied < sw.Index {
			t.Errorf("wait=all lists %s at %d, below the switch at %d", nd.ID, nd.Applied, sw.Index)
		}
	}
	slices.Sort(listed)
	if status != http.StatusOK || !sw.Wait.Complete || len(sw.Wait.Lagging) != 0 || !slices.Equal(listed, all) {
		t.Fatalf("switch wait=all through %s: status %d, complete %v, lagging %v, nodes %v; want 200, every one of %v",
			via.ID, status, sw.Wait.Complete, sw.Wait.Lagging, listed, all)
	}
	everyNodeAnswers(t, c.Nodes, greenV4, "right after switch wait=all")

	step("switch wait=all")
	// Kill -9 of the leader: a voter takes over, never an edge, and the
	// edges forward to the new leader.
	old := c.Leader()
	old.Kill9()
	nl := c.Leader()
	if !slices.Contains(voters, nl) || nl == old {
		t.Fatalf("after kill -9 of %s the leader is %s, want another voter", old.ID, nl.ID)
	}
	var rb HTTPResult
	eventually(t, 15*time.Second, "rollback through an edge after the leader's death", func() error {
		r, err := CallE("POST", edges[1].URL()+"/v1/services/"+svcName+"/rollback",
			map[string]any{"reason": "leader lost", "request_id": "edge-rollback-1"})
		if err != nil {
			return err
		}
		if r.Status != http.StatusOK {
			return fmt.Errorf("%s", r)
		}
		rb = r
		return nil
	})
	if m, err := decodeMutation(rb.Body); err != nil || m.Service.Active != "blue" {
		t.Fatalf("rollback through %s: %v %s", edges[1].ID, err, rb)
	}
	old.Restart()
	c.EveryNode(15*time.Second, "blue everywhere once the old leader is back", func(n *Node) error { return checkColour(n, blueV4) })

	step("leader killed, back")
	// Every voter frozen: the edges hear from no leader and, under the
	// default stale policy, keep answering blue, labelled stale (EDE 3,
	// TTL capped at 1s), with /readyz 200 "stale"; none becomes leader.
	for _, v := range voters {
		pause(t, v, true)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			for _, v := range voters {
				pause(t, v, false)
			}
		}
	}
	t.Cleanup(thaw)
	for _, e := range []*Node{edges[0], edges[nEdges-1]} {
		eventually(t, 10*time.Second, e.ID+" answering stale with every voter frozen", func() error {
			a, err := DigE(e.DNSAddr, svcName, "A", "+tries=1", "+time=1")
			if err != nil {
				return err
			}
			if !strings.Contains(a.Raw, digStaleEDE) {
				return fmt.Errorf("no stale label\n%s", a.Raw)
			}
			return checkAddrs(a, "A", 1, blueV4...)
		})
		if code, st, err := e.Readyz(); err != nil || code != http.StatusOK || st != "stale" {
			t.Errorf("/readyz on %s with every voter frozen: %d %q %v, want 200 stale", e.ID, code, st, err)
		}
		if lid, _ := clusterMembers(t, e); lid != "" && !strings.HasPrefix(lid, "n") {
			t.Errorf("%s names %s leader with every voter frozen", e.ID, lid)
		}
	}
	thaw()
	c.EveryNode(15*time.Second, "blue and current everywhere once the voters run again", func(n *Node) error {
		if !n.Ready() {
			return fmt.Errorf("not ready")
		}
		return checkColour(n, blueV4)
	})

	step("stale with voters frozen, thawed")
	// An edge that is gone holds wait=all back and is named lagging;
	// once removed it no longer counts.
	gone := edges[nEdges-1]
	gone.Kill9()
	status, sw = flipWaitAll(t, edges[0], "switch", "4s", "edge-switch-2")
	if status != http.StatusGatewayTimeout || sw.Wait.Complete || !slices.Equal(sw.Wait.Lagging, []string{gone.ID}) {
		t.Fatalf("switch wait=all with %s down: status %d, complete %v, lagging %v; want 504 lagging [%s]",
			gone.ID, status, sw.Wait.Complete, sw.Wait.Lagging, gone.ID)
	}
	step("504 naming the gone edge")
	Expect(t, http.StatusOK, "DELETE", edges[0].URL()+"/v1/cluster/members/"+gone.ID, nil)
	c.Nodes = slices.DeleteFunc(c.Nodes, func(n *Node) bool { return n == gone })
	status, sw = flipWaitAll(t, edges[0], "rollback", "20s", "edge-rollback-2")
	listed = listed[:0]
	for _, nd := range sw.Wait.Nodes {
		listed = append(listed, nd.ID)
	}
	slices.Sort(listed)
	if want := ids(c.Nodes); status != http.StatusOK || !sw.Wait.Complete || !slices.Equal(listed, want) {
		t.Fatalf("rollback wait=all after removing %s: status %d, complete %v, nodes %v; want 200 and %v",
			gone.ID, status, sw.Wait.Complete, listed, want)
	}
	everyNodeAnswers(t, c.Nodes, blueV4, "right after rollback wait=all")
	step("removed edge no longer counts")
	// and its NS name leaves the zone
	wantNS = autoNSWant(voters, slices.DeleteFunc(slices.Clone(edges), func(n *Node) bool { return n == gone }))
	c.EveryNode(15*time.Second, "the removed edge's NS name gone", func(n *Node) error { return checkNS(n, wantNS) })
	step("NS set without the removed edge")
}

func isSubset(small, big []string) bool {
	for _, s := range small {
		if !slices.Contains(big, s) {
			return false
		}
	}
	return true
}
