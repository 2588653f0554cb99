package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The fail-static tests: what a node answers when it cannot confirm with a
// leader that it is current, with real processes killed, paused and
// restarted.

const (
	staleMaxStale = 2 * time.Second // the default --max-stale, given explicitly
	staleTTL      = 1               // the default --stale-ttl, in seconds
	digStaleEDE   = "EDE: 3 (Stale Answer)"
)

// startSwitched starts a 3-node cluster with the service blue, 2.0
// deployed onto green and switched to (--wait), and returns it.
func startSwitched(t *testing.T, args ...string) *Cluster {
	t.Helper()
	c := StartCluster(t, 3, ClusterOptions{Hosts: clusterHosts, MaxStale: staleMaxStale, Args: append([]string{"--rrl-rate", "0"}, args...)})
	clusterCLI(t, c, "service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	clusterCLI(t, c, "deploy", svcName, "--version", "2.0", "--addr", greenV4[0], "--addr", greenV6[0])
	clusterCLI(t, c, "switch", svcName, "--reason", "2.0 live", "--wait")
	c.EveryNode(10*time.Second, "green everywhere", func(n *Node) error { return checkColour(n, greenV4) })
	return c
}

// clusterCLI runs a change through the leader, again (with the same
// request id, so it is applied once) while the cluster has no leader: on
// a loaded machine a young cluster may still hold an election.
func clusterCLI(t *testing.T, c *Cluster, args ...string) string {
	t.Helper()
	id := fmt.Sprintf("setup-%s-%d", t.Name(), time.Now().UnixNano())
	args = append(args, "--request-id", id)
	var r CLIResult
	eventually(t, 20*time.Second, "bgdns "+strings.Join(args, " "), func() error {
		l := c.Leader()
		r = RunCLIEnv(t, l.CLIEnv(), l.URL(), args...)
		if r.Code != 0 {
			if strings.Contains(r.Stderr, "leader") {
				return fmt.Errorf("%s", r)
			}
			return permanent{fmt.Errorf("%s", r)}
		}
		return nil
	})
	return r.Stdout
}

// leaderAmong returns the leader the nodes other than frozen (paused: it
// answers nothing) agree on.
func leaderAmong(t *testing.T, c *Cluster, frozen *Node) *Node {
	t.Helper()
	var leader *Node
	eventually(t, 15*time.Second, "a leader agreed by the nodes that run", func() error {
		var id string
		for _, n := range c.Nodes {
			if n == frozen {
				continue
			}
			got, err := LeaderID(n)
			if err != nil {
				return err
			}
			if got == "" || (id != "" && got != id) {
				return fmt.Errorf("leaders %q and %q", id, got)
			}
			id = got
		}
		if id == frozen.ID {
			return fmt.Errorf("the frozen %s still named leader", id)
		}
		leader = c.Node(id)
		return nil
	})
	return leader
}

// clusterCLIJSON is clusterCLI with -o json, decoded into v.
func clusterCLIJSON(t *testing.T, c *Cluster, v any, args ...string) {
	t.Helper()
	out := clusterCLI(t, c, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("bgdns %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// waitStale polls n every 5ms from now until check says its answer is
// what the stale policy gives, and returns how long that took.
func waitStale(t *testing.T, n *Node, from time.Time, limit time.Duration, what string, check func(r dnsReply) bool) time.Duration {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last dnsReply
	for time.Now().Before(deadline) {
		last = queryDNS(n.DNSAddr, svcName, dns.TypeA, true, 200*time.Millisecond)
		if last.Err == nil && check(last) {
			return last.Sent.Sub(from)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v of the fault; last answer %s", what, limit, last)
	return 0
}

// noStaleLabel is nil when the answer is a current one: no EDE 3.
func noStaleLabel(a *DNSAnswer) error {
	if strings.Contains(a.Raw, "EDE:") {
		return fmt.Errorf("answer carries an Extended DNS Error\n%s", a.Raw)
	}
	return nil
}

// checkStaleAnswers checks, with dig, every kind of answer a stale node
// gives under the serve policy: the last colour, labelled, TTLs capped.
func checkStaleAnswers(t *testing.T, n *Node) {
	t.Helper()
	a := n.Dig(svcName, "A")
	wantAddrs(t, "stale A", a, "A", staleTTL, greenV4...)
	if !strings.Contains(a.Raw, digStaleEDE) {
		t.Errorf("stale A answer without %q:\n%s", digStaleEDE, a.Raw)
	}
	a = n.Dig(svcName, "AAAA")
	wantAddrs(t, "stale AAAA", a, "AAAA", staleTTL, greenV6...)
	if !strings.Contains(a.Raw, digStaleEDE) {
		t.Errorf("stale AAAA answer without %q:\n%s", digStaleEDE, a.Raw)
	}
	a = n.Dig(txtName, "TXT")
	wantTXT(t, "stale TXT", a, map[string]string{"active": "green"})
	if !strings.Contains(a.Raw, digStaleEDE) || a.Answer[0].TTL > staleTTL {
		t.Errorf("stale TXT: want %q and TTL <= %d:\n%s", digStaleEDE, staleTTL, a.Raw)
	}
	// A negative answer: the SOA's TTL is capped too.
	a = n.Dig("nope."+testZone, "A")
	if a.Status != "NXDOMAIN" || !strings.Contains(a.Raw, digStaleEDE) {
		t.Errorf("stale NXDOMAIN: want NXDOMAIN with %q:\n%s", digStaleEDE, a.Raw)
	}
	for _, rr := range append(append([]RR{}, a.Answer...), a.Authority...) {
		if rr.TTL > staleTTL {
			t.Errorf("stale NXDOMAIN: %s %s TTL %d above %d\n%s", rr.Name, rr.Type, rr.TTL, staleTTL, a.Raw)
		}
	}
	// The apex SOA and NS with glue.
	a = n.Dig(testZone, "NS")
	for _, sec := range [][]RR{a.Answer, a.Authority, a.Additional} {
		for _, rr := range sec {
			if rr.TTL > staleTTL {
				t.Errorf("stale NS: %s %s TTL %d above %d\n%s", rr.Name, rr.Type, rr.TTL, staleTTL, a.Raw)
			}
		}
	}
	// Without EDNS there is nowhere to put the label; the TTLs are capped.
	a = n.Dig(svcName, "A", "+noedns")
	wantAddrs(t, "stale A without EDNS", a, "A", staleTTL, greenV4...)
	if strings.Contains(a.Raw, "EDE:") || strings.Contains(a.Raw, "OPT PSEUDOSECTION") {
		t.Errorf("answer to a query without EDNS carries an OPT:\n%s", a.Raw)
	}
	// Names outside our zones are still refused.
	if a := n.Dig("example.org.", "A"); a.Status != "REFUSED" {
		t.Errorf("stale node, name outside the zones: %s, want REFUSED\n%s", a.Status, a.Raw)
	}
}

func TestStaleQuorumLostServesLabelled(t *testing.T) {
	c := startSwitched(t)
	// The survivor is a follower: the leader and the other follower die.
	l := c.Leader()
	survivor := c.Followers()[0]
	a := survivor.Dig(svcName, "A")
	wantAddrs(t, "current answer", a, "A", 5, greenV4...)
	if err := noStaleLabel(a); err != nil {
		t.Fatal(err)
	}
	var dead []*Node
	for _, n := range c.Nodes {
		if n != survivor {
			dead = append(dead, n)
		}
	}
	killed := time.Now()
	for _, n := range dead {
		n.Kill9()
	}
	t.Logf("killed %s (leader) and the other follower; survivor %s", l.ID, survivor.ID)

	took := waitStale(t, survivor, killed, staleMaxStale+time.Second*slow, "EDE 3 from the survivor",
		func(r dnsReply) bool { return r.Stale() })
	t.Logf("survivor labelled its answers stale %v after kill -9 (max-stale %v)", took.Round(time.Millisecond), staleMaxStale)
	if took < staleMaxStale/2 {
		// Confirmations run every max-stale/4: at the kill the last one
		// is that old, plus however long it took on a loaded machine.
		t.Errorf("stale after %v: far sooner than max-stale %v allows", took, staleMaxStale)
	}
	code, status, err := survivor.Readyz()
	if err != nil || code != http.StatusOK || status != "stale" {
		t.Errorf("/readyz of the stale survivor: %d %q %v, want 200 stale", code, status, err)
	}
	checkStaleAnswers(t, survivor)

	// REST reads still work, say so, and a consistent one is refused.
	r := Expect(t, http.StatusOK, "GET", survivor.URL()+"/v1/services/"+svcName, nil)
	if r.Header.Get("X-Bgdns-Stale") != "true" || r.Header.Get("X-Bgdns-Applied-Index") == "" {
		t.Errorf("stale REST read: headers %v, want X-Bgdns-Stale: true and X-Bgdns-Applied-Index", r.Header)
	}
	var s ServiceJSON
	r.Decode(t, &s)
	if s.Active != "green" {
		t.Errorf("stale REST read: active %q, want green", s.Active)
	}
	if r := Call(t, "GET", survivor.URL()+"/v1/services/"+svcName+"?consistent", nil); r.Status != http.StatusServiceUnavailable {
		t.Errorf("consistent read without a quorum: %s, want 503", r)
	}

	// The two come back: the label goes, and a rollback is seen everywhere.
	for _, n := range dead {
		n.RestartNoWait()
	}
	c.WaitReady()
	eventually(t, 10*time.Second, "the survivor's answers current again", func() error {
		a, err := DigE(survivor.DNSAddr, svcName, "A")
		if err != nil {
			return err
		}
		if err := noStaleLabel(a); err != nil {
			return err
		}
		return checkAddrs(a, "A", 5, greenV4...)
	})
	var rb waitJSON
	CLIJSON(t, survivor.URL(), &rb, "rollback", svcName, "--reason", "after the outage", "--wait")
	if rb.Wait == nil || !rb.Wait.Complete {
		t.Fatalf("rollback --wait after the restart: %+v", rb)
	}
	for _, n := range c.Nodes {
		a := n.Dig(svcName, "A")
		if err := checkAddrs(a, "A", 5, blueV4...); err != nil {
			t.Errorf("%s after rollback --wait: %v", n.ID, err)
		}
		if err := noStaleLabel(a); err != nil {
			t.Errorf("%s after rollback --wait: %v", n.ID, err)
		}
	}
}

func TestStaleQuorumLostServfailPolicy(t *testing.T) {
	c := startSwitched(t, "--stale-policy", "servfail")
	// The survivor is the leader: both followers die, and it can no longer
	// verify its leadership with a quorum.
	survivor := c.Leader()
	dead := c.Followers()
	killed := time.Now()
	for _, n := range dead {
		n.Kill9()
	}
	took := waitStale(t, survivor, killed, staleMaxStale+time.Second*slow, "SERVFAIL from the survivor",
		func(r dnsReply) bool {
			if r.Rcode == dns.RcodeSuccess && r.Stale() {
				t.Errorf("servfail policy, yet a stale-labelled answer: %s", r)
			}
			return r.Rcode == dns.RcodeServerFailure
		})
	t.Logf("leader %s answers SERVFAIL %v after kill -9 of both followers (max-stale %v)", survivor.ID, took.Round(time.Millisecond), staleMaxStale)
	eventually(t, 2*time.Second, "/readyz 503 on the stale leader", func() error {
		if code, status, err := survivor.Readyz(); err != nil || code != http.StatusServiceUnavailable {
			return fmt.Errorf("/readyz %d %q %v", code, status, err)
		}
		return nil
	})
	for _, q := range [][2]string{{svcName, "A"}, {svcName, "AAAA"}, {txtName, "TXT"}, {testZone, "SOA"}, {"nope." + testZone, "A"}, {"example.org.", "A"}} {
		if a := survivor.Dig(q[0], q[1]); a.Status != "SERVFAIL" {
			t.Errorf("servfail policy, stale: %s %s answered %s\n%s", q[0], q[1], a.Status, a.Raw)
		}
	}
	// REST: a node that does not serve refuses reads, unless ?stale.
	if r := Call(t, "GET", survivor.URL()+"/v1/services/"+svcName, nil); r.Status != http.StatusServiceUnavailable {
		t.Errorf("REST read from a node that does not serve: %s, want 503", r)
	}
	r := Expect(t, http.StatusOK, "GET", survivor.URL()+"/v1/services/"+svcName+"?stale", nil)
	var s ServiceJSON
	r.Decode(t, &s)
	if s.Active != "green" {
		t.Errorf("?stale read: active %q, want green", s.Active)
	}

	for _, n := range dead {
		n.RestartNoWait()
	}
	c.WaitReady()
	c.EveryNode(10*time.Second, "green, current, everywhere", func(n *Node) error { return checkColour(n, greenV4) })
	var rb waitJSON
	CLIJSON(t, dead[0].URL(), &rb, "rollback", svcName, "--reason", "after the outage", "--wait")
	if rb.Wait == nil || !rb.Wait.Complete {
		t.Fatalf("rollback --wait after the restart: %+v", rb)
	}
	for _, n := range c.Nodes {
		if err := checkColour(n, blueV4); err != nil {
			t.Errorf("%s after rollback --wait: %v", n.ID, err)
		}
	}
}

func TestStaleWaitAllTimesOut(t *testing.T) {
	c := startSwitched(t)
	l := c.Leader()
	frozen := c.Followers()[0]
	frozen.Pause()
	t.Cleanup(frozen.Resume)

	start := time.Now()
	var r CLIResult
	var took time.Duration
	eventually(t, 20*time.Second, "the rollback accepted by a leader", func() error {
		start = time.Now()
		r = RunCLIEnv(t, l.CLIEnv(), leaderAmong(t, c, frozen).URL(), "rollback", svcName, "--reason", "frozen follower",
			"--wait", "--wait-timeout", "2s", "--request-id", "rollback-while-frozen")
		took = time.Since(start)
		if r.Code != 3 && strings.Contains(r.Stderr, "no_leader") {
			return fmt.Errorf("%s", r)
		}
		return nil
	})
	t.Logf("rollback --wait --wait-timeout 2s with %s frozen: exit %d after %v\nstderr: %s", frozen.ID, r.Code, took.Round(time.Millisecond), r.Stderr)
	if r.Code != 3 {
		t.Fatalf("want exit 3 (committed, wait incomplete): %s", r)
	}
	if !strings.Contains(r.Stderr, frozen.ID) {
		t.Errorf("the CLI does not name the lagging node %s: %s", frozen.ID, r)
	}
	// The change itself is committed: the others answer blue.
	for _, n := range c.Nodes {
		if n != frozen {
			if err := checkColour(n, blueV4); err != nil {
				t.Errorf("%s after the incomplete wait: %v", n.ID, err)
			}
		}
	}

	// The REST call: 504 with the same body shape.
	// (Sent again, with the same request id, while an election the load
	// caused leaves the two without a leader: nothing was proposed then.)
	var res HTTPResult
	eventually(t, 20*time.Second, "the switch accepted by a leader", func() error {
		start = time.Now()
		var err error
		res, err = CallE("POST", leaderAmong(t, c, frozen).URL()+"/v1/services/"+svcName+"/switch?wait=all&wait_timeout=2s",
			map[string]any{"reason": "still frozen", "request_id": "switch-while-frozen"})
		if err == nil && res.Status == http.StatusServiceUnavailable && res.ErrorCode() == "no_leader" {
			return fmt.Errorf("%s", res)
		}
		return err
	})
	t.Logf("POST switch?wait=all&wait_timeout=2s: %d after %v: %s", res.Status, time.Since(start).Round(time.Millisecond), res.Body)
	if res.Status != http.StatusGatewayTimeout {
		t.Fatalf("switch?wait=all with a frozen voter: %s, want 504", res)
	}
	var w waitJSON
	res.Decode(t, &w)
	if w.Wait == nil || w.Wait.Complete || !slices.Contains(w.Wait.Lagging, frozen.ID) {
		t.Fatalf("504 body: want complete false, lagging naming %s: %s", frozen.ID, res.Body)
	}
	if len(w.Wait.Lagging) != 1 {
		t.Logf("lagging %v: on a loaded machine another voter was late too", w.Wait.Lagging)
	}
	if w.Service.Active != "green" || w.Index == 0 {
		t.Errorf("504 body: the committed change is not in it: %s", res.Body)
	}

	frozen.Resume()
	resumed := time.Now()
	c.EveryNode(15*time.Second, "green everywhere once the follower runs again", func(n *Node) error { return checkColour(n, greenV4) })
	t.Logf("%s answers green %v after SIGCONT", frozen.ID, time.Since(resumed).Round(time.Millisecond))
	var rb waitJSON
	clusterCLIJSON(t, c, &rb, "rollback", svcName, "--reason", "all back", "--wait", "--wait-timeout", "10s")
	t.Logf("rollback --wait complete %v after SIGCONT", time.Since(resumed).Round(time.Millisecond))
	if rb.Wait == nil || !rb.Wait.Complete || len(rb.Wait.Lagging) != 0 || len(rb.Wait.Nodes) != 3 {
		t.Fatalf("rollback --wait after SIGCONT: %+v", rb)
	}
}

// pausedCounts is what a paused node's replies were.
type pausedCounts struct {
	Current, Stale, Servfail, None int
	// violations, by kind
	OlderUnlabelled, StaleTTL, Other int
	// WorstLag is the largest number of revisions an unlabelled answer
	// was behind what it had to carry.
	WorstLag uint64
}

// checkPausedReplies holds every reply of a node that was paused to the
// fail-static rules: an answer without the stale label carries at least
// every revision acknowledged max-stale before it was asked; a labelled
// one has no TTL above the stale TTL. Each violation fails the test (the
// first few of each kind are shown).
func checkPausedReplies(t *testing.T, replies []dnsReply, commits []commitRec) pausedCounts {
	t.Helper()
	var c pausedCounts
	for _, r := range replies {
		switch {
		case r.Err != nil:
			c.None++
			continue
		case r.Rcode == dns.RcodeServerFailure:
			c.Servfail++
			continue
		case r.Rcode != dns.RcodeSuccess || !r.HasRev || r.Truncated:
			c.Other++
			if c.Other <= 5 {
				t.Errorf("answer %s: want NOERROR with the TXT revision", r)
			}
			continue
		}
		if r.Stale() {
			c.Stale++
			if r.MaxTTL > staleTTL {
				c.StaleTTL++
				if c.StaleTTL <= 5 {
					t.Errorf("stale answer %s: TTL above the stale TTL %d", r, staleTTL)
				}
			}
			continue
		}
		c.Current++
		if need := requiredRevision(commits, r.Sent.Add(-staleMaxStale)); r.Revision < need {
			c.OlderUnlabelled++
			c.WorstLag = max(c.WorstLag, need-r.Revision)
			if c.OlderUnlabelled <= 5 {
				t.Errorf("unlabelled answer %s: revision %d, but %d was acknowledged more than max-stale %v before the query",
					r, r.Revision, need, staleMaxStale)
			}
		}
	}
	if c.OlderUnlabelled+c.StaleTTL+c.Other > 0 {
		t.Errorf("violations: %d unlabelled answers older than allowed (worst %d revisions behind), %d stale answers with a long TTL, %d other",
			c.OlderUnlabelled, c.WorstLag, c.StaleTTL, c.Other)
	}
	return c
}

func TestStalePausedNodeNeverUnlabelledOld(t *testing.T) {
	c := startSwitched(t)
	l := c.Leader()
	frozen := c.Followers()[0]
	var others []*Node
	for _, n := range c.Nodes {
		if n != frozen {
			others = append(others, n)
		}
	}
	w := startWriter(t, func() []*Node { return others }, 20*time.Millisecond, 3*time.Minute)
	p := startProber(t, frozen.DNSAddr, txtName, dns.TypeTXT, 2, 3*time.Minute)
	eventually(t, 10*time.Second, "a few writes before the pause", func() error {
		if n := w.Count(); n < 20 {
			return fmt.Errorf("%d writes", n)
		}
		return nil
	})

	// Two rounds: pause 7s while the writes go on through the others,
	// resume, wait until it is current again and a little more. Waits
	// poll, so that the test fails rather than hangs if the cluster stops
	// committing.
	var resumes []time.Time
	for round := 1; round <= 2; round++ {
		frozen.Pause()
		paused := time.Now()
		eventually(t, 20*time.Second, "7s of writes while paused", func() error {
			if time.Since(paused) < 7*time.Second {
				return fmt.Errorf("paused %v", time.Since(paused))
			}
			return nil
		})
		frozen.Resume()
		resumed := time.Now()
		resumes = append(resumes, resumed)
		t.Logf("round %d: %s paused for %v (leader before: %s)", round, frozen.ID, resumed.Sub(paused).Round(time.Millisecond), l.ID)
		eventually(t, 15*time.Second, "the resumed node ready again", func() error {
			if !frozen.Ready() {
				return fmt.Errorf("/readyz %s", readyzStatus(frozen))
			}
			return nil
		})
		readyAt := time.Now()
		t.Logf("round %d: /readyz ready %v after SIGCONT", round, readyAt.Sub(resumed).Round(time.Millisecond))
		// A few more seconds of writes and queries with the node current.
		eventually(t, 10*time.Second, "3s more", func() error {
			if time.Since(readyAt) < 3*time.Second {
				return fmt.Errorf("%v", time.Since(readyAt))
			}
			return nil
		})
	}
	replies := p.Stop()
	commits := w.Stop()
	if len(commits) < 100 {
		t.Fatalf("only %d writes acknowledged (%d failed, last: %v)", len(commits), w.errs, w.lastErr)
	}

	cnt := checkPausedReplies(t, replies, commits)
	if w.errs > 0 {
		t.Logf("%d writes failed; the last: %v", w.errs, w.lastErr)
	}
	t.Logf("%d writes acknowledged (revisions %d..%d, %d failed); %d queries: %d current, %d labelled stale, %d SERVFAIL, %d unanswered",
		len(commits), commits[0].Rev, commits[len(commits)-1].Rev, w.errs, len(replies), cnt.Current, cnt.Stale, cnt.Servfail, cnt.None)
	for round, resumed := range resumes {
		var firstAfter, firstFresh *dnsReply
		for i := range replies {
			r := &replies[i]
			if r.Err == nil && r.Recv.After(resumed) {
				if firstAfter == nil {
					firstAfter = r
				}
				if !r.Stale() && r.Sent.After(resumed) && firstFresh == nil {
					firstFresh = r
				}
			}
		}
		if firstAfter != nil {
			t.Logf("round %d: first answer after SIGCONT: %s", round+1, *firstAfter)
		}
		if firstFresh != nil {
			t.Logf("round %d: first unlabelled answer asked after SIGCONT: %s, %v after SIGCONT", round+1, *firstFresh, firstFresh.Sent.Sub(resumed).Round(time.Millisecond))
		}
	}
	if cnt.Stale == 0 {
		t.Errorf("no stale-labelled answer at all after two 7s pauses")
	}
	// The node is current in the end.
	last := queryDNS(frozen.DNSAddr, txtName, dns.TypeTXT, true, time.Second)
	if need := commits[len(commits)-1].Rev; last.Err != nil || last.Stale() || last.Revision < need {
		t.Errorf("after the writes stopped: %s, want current revision >= %d", last, need)
	}
}

func TestStaleRestartLongLogNeverOlder(t *testing.T) {
	c := StartCluster(t, 3, ClusterOptions{Hosts: clusterHosts, MaxStale: staleMaxStale,
		Args: []string{"--snapshot-threshold", "1000000", "--rrl-rate", "0"}})
	clusterCLI(t, c, "service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	l := c.Leader()
	target := c.Followers()[0]

	// A long log: writes in parallel through the leader (found again
	// whenever a write fails: on a loaded machine elections happen).
	const writes = 3000
	const par = 8
	var (
		mu     sync.Mutex
		leader = l
		failed int
		lastE  error
	)
	next := make(chan int, writes)
	for i := 0; i < writes; i++ {
		next <- i
	}
	close(next)
	began := time.Now()
	var wg sync.WaitGroup
	for g := 0; g < par; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				colour := "blue"
				if i%2 == 0 {
					colour = "green"
				}
				// Each write is tried again until acknowledged: the log
				// must be long, whatever elections the load causes.
				for {
					mu.Lock()
					base := leader.URL()
					mu.Unlock()
					_, err := putColour(base, colour, 5)
					if err == nil {
						break
					}
					mu.Lock()
					failed, lastE = failed+1, err
					for _, n := range c.Nodes {
						if id, err := LeaderID(n); err == nil && id != "" {
							leader = c.Node(id)
							break
						}
					}
					mu.Unlock()
					if time.Since(began) > 3*time.Minute {
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d writes in %v, %d failed (last: %v)", writes, time.Since(began).Round(time.Millisecond), failed, lastE)
	if time.Since(began) > 3*time.Minute {
		t.Fatalf("the long log was not written in 3 minutes; %d tries failed, the last: %v", failed, lastE)
	}
	l = c.Leader()
	want := GetService(t, l.URL(), svcName).Revision
	eventually(t, 20*time.Second, "the target applied every write", func() error {
		r := queryDNS(target.DNSAddr, txtName, dns.TypeTXT, true, time.Second)
		if r.Err != nil || r.Revision < want {
			return fmt.Errorf("%s, want revision %d", r, want)
		}
		return nil
	})

	p := startProber(t, target.DNSAddr, txtName, dns.TypeTXT, 2, 3*time.Minute)
	eventually(t, 5*time.Second, "answers before the kill", func() error {
		if n := len(p.Snapshot()); n < 200 {
			return fmt.Errorf("%d replies", n)
		}
		return nil
	})
	target.Kill9()
	killed := time.Now()
	// A few more changes while it is down: it must come back to them.
	for i := 0; i < 20; i++ {
		eventually(t, 10*time.Second, "a write while "+target.ID+" is down", func() error {
			_, err := putColour(c.Leader().URL(), "green", 5)
			return err
		})
	}
	latest := GetService(t, c.Leader().URL(), svcName).Revision
	target.RestartNoWait()
	restarted := time.Now()
	var readyAt time.Time
	eventually(t, 60*time.Second, "the restarted node ready", func() error {
		if !target.Ready() {
			return fmt.Errorf("/readyz %s", readyzStatus(target))
		}
		readyAt = time.Now()
		return nil
	})
	// A little longer, then stop.
	eventually(t, 5*time.Second, "1s more", func() error {
		if time.Since(readyAt) < time.Second {
			return fmt.Errorf("%v", time.Since(readyAt))
		}
		return nil
	})
	replies := p.Stop()

	var lastBefore uint64
	for _, r := range replies {
		if r.Err == nil && r.Recv.Before(killed) && r.Rcode == dns.RcodeSuccess {
			lastBefore = max(lastBefore, r.Revision)
		}
	}
	if lastBefore < want {
		t.Fatalf("served revision %d before the kill, below the %d it had applied", lastBefore, want)
	}
	var servfail, older, refused, other, answers, none, staleN int
	var firstAnswer, firstCurrent time.Time
	for _, r := range replies {
		if !r.Sent.After(killed) {
			continue
		}
		switch {
		case r.Err != nil:
			none++
		case r.Rcode == dns.RcodeServerFailure:
			servfail++
		case r.Rcode == dns.RcodeRefused:
			refused++
			if refused <= 5 {
				t.Errorf("REFUSED from the restarting node: %s", r)
			}
		case r.Rcode != dns.RcodeSuccess || !r.HasRev || r.Truncated:
			other++
			if other <= 5 {
				t.Errorf("unexpected answer from the restarting node: %s", r)
			}
		default:
			answers++
			if firstAnswer.IsZero() {
				firstAnswer = r.Recv
			}
			if r.Stale() {
				staleN++
				if r.MaxTTL > staleTTL {
					t.Errorf("stale answer with TTL above %d: %s", staleTTL, r)
				}
			} else if firstCurrent.IsZero() {
				firstCurrent = r.Recv
			}
			if r.Revision < lastBefore {
				older++
				if older <= 5 {
					t.Errorf("restarted node answered revision %d, older than the %d it served before the kill: %s", r.Revision, lastBefore, r)
				}
			}
		}
	}
	t.Logf("log: %d writes, revision %d served before kill -9, %d after the writes while down", writes, lastBefore, latest)
	t.Logf("after the kill: %d queries unanswered, %d SERVFAIL, %d answers (%d labelled stale), %d older, %d REFUSED",
		none, servfail, answers, staleN, older, refused)
	if !firstAnswer.IsZero() {
		t.Logf("first answer %v after restart; first current answer %v after; /readyz ready %v after",
			firstAnswer.Sub(restarted).Round(time.Millisecond), firstCurrent.Sub(restarted).Round(time.Millisecond),
			readyAt.Sub(restarted).Round(time.Millisecond))
	}
	if answers == 0 {
		t.Error("no answer at all from the restarted node")
	}
	r := queryDNS(target.DNSAddr, txtName, dns.TypeTXT, true, time.Second)
	if r.Err != nil || r.Stale() || r.Revision < latest {
		t.Errorf("restarted node once ready: %s, want current revision >= %d", r, latest)
	}
}

// TestStaleRetireWatermarkWaitsForLaggingVoter: after a switch, the time
// when the old colour is safe to retire is given only once every voter
// has confirmed applying the switch; until then the service says which
// nodes it waits for.
func TestStaleRetireWatermarkWaitsForLaggingVoter(t *testing.T) {
	c := startSwitched(t)
	l := c.Leader()
	frozen := c.Followers()[0]
	frozen.Pause()
	t.Cleanup(frozen.Resume)
	res := Call(t, "POST", l.URL()+"/v1/services/"+svcName+"/rollback?wait=all&wait_timeout=1s",
		map[string]any{"reason": "a voter is frozen"})
	if res.Status != http.StatusGatewayTimeout {
		t.Fatalf("rollback?wait=all with a frozen voter: %s, want 504", res)
	}
	var svc struct {
		SafeToRetireAt *time.Time `json:"safe_to_retire_at"`
		Retire         *struct {
			Safe       bool     `json:"safe"`
			WaitingFor []string `json:"waiting_for"`
		} `json:"retire"`
	}
	r := Expect(t, http.StatusOK, "GET", l.URL()+"/v1/services/"+svcName, nil)
	r.Decode(t, &svc)
	if svc.SafeToRetireAt != nil {
		t.Errorf("safe_to_retire_at %v given while %s has not applied the rollback: %s", *svc.SafeToRetireAt, frozen.ID, r.Body)
	}
	if svc.Retire == nil || svc.Retire.Safe || len(svc.Retire.WaitingFor) != 1 || svc.Retire.WaitingFor[0] != frozen.ID {
		t.Errorf(`want "retire":{"safe":false,"waiting_for":[%q]} while it is frozen: %s`, frozen.ID, r.Body)
	}
	frozen.Resume()
	eventually(t, 15*time.Second, "safe to retire once every voter applied the rollback", func() error {
		r, err := CallE("GET", l.URL()+"/v1/services/"+svcName, nil)
		if err != nil {
			return err
		}
		svc.SafeToRetireAt, svc.Retire = nil, nil
		if err := json.Unmarshal(r.Body, &svc); err != nil {
			return err
		}
		if svc.SafeToRetireAt == nil || svc.Retire == nil || !svc.Retire.Safe {
			return fmt.Errorf("%s", r)
		}
		return nil
	})
}
