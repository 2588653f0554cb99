package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// stopBudget is how long a node may take to exit after SIGTERM.
const stopBudget = 5 * time.Second

// stopWriter PUTs a new service every few milliseconds through whichever
// running node answers, and remembers the ones a node acknowledged (200).
type stopWriter struct {
	c     *Cluster
	zone  string
	stop  chan struct{}
	done  chan struct{}
	seq   atomic.Int64
	mu    sync.Mutex
	acked []string
}

func startStopWriter(c *Cluster, zone string) *stopWriter {
	w := &stopWriter{c: c, zone: zone, stop: make(chan struct{}), done: make(chan struct{})}
	var wg sync.WaitGroup
	for g := 0; g < stopWriters; g++ {
		wg.Add(1)
		go func() { defer wg.Done(); w.run(g) }()
	}
	go func() { wg.Wait(); close(w.done) }()
	return w
}

// stopWriters is how many clients write at once: enough that the leader
// has several appends in flight to each follower when one of them stops.
const stopWriters = 8

func (w *stopWriter) run(g int) {
	body := map[string]any{"ttl": 5, "blue": map[string]any{"version": "1.0", "addresses": []string{"192.0.2.1"}}}
	for i := g; ; i++ {
		select {
		case <-w.stop:
			return
		default:
		}
		nodes := w.c.Running()
		if len(nodes) == 0 {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		n := nodes[i%len(nodes)]
		name := fmt.Sprintf("w%d.%s", w.seq.Add(1), w.zone)
		r, err := CallE("PUT", n.URL()+"/v1/services/"+name, body)
		if err == nil && r.Status == http.StatusOK {
			w.mu.Lock()
			w.acked = append(w.acked, name)
			w.mu.Unlock()
		}
		if err != nil || r.Status != http.StatusOK {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// finish stops the stopWriter and returns what was acknowledged.
func (w *stopWriter) finish() []string {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.acked...)
}

func (w *stopWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// stopWithin sends SIGTERM and reports whether the process exited within
// budget. When it did not, it sends SIGQUIT (the Go runtime prints every
// goroutine's stack into the node's log) and then SIGKILL, and returns the
// log tail.
func stopWithin(n *Node, budget time.Duration) (time.Duration, string, bool) {
	start := time.Now()
	if n.signal(syscall.SIGTERM, budget) {
		return time.Since(start), "", true
	}
	took := time.Since(start)
	n.signal(syscall.SIGQUIT, 5*time.Second)
	n.signal(syscall.SIGKILL, 10*time.Second)
	return took, n.LogTail(400), false
}

// Twenty times (six with -race), under a steady flow of writes, one node (the leader and a
// follower in turn) gets SIGTERM and must exit within the stop budget; it
// is then restarted. At the end every write a node acknowledged is on
// every node.
func TestStopUnderWritesBounded(t *testing.T) {
	c := StartCluster(t, 3, ClusterOptions{Hosts: clusterHosts, MaxStale: 2 * time.Second, TLS: true})
	w := startStopWriter(c, testZone)
	defer func() {
		select {
		case <-w.stop:
		default:
			w.finish()
		}
	}()
	// Twenty rounds take about 25 s with a plain binary; a -race binary
	// is several times slower at every restart, so it gets fewer.
	rounds := 20
	if raceBuild {
		rounds = 6
	}
	for i := 0; i < rounds; i++ {
		// Let writes flow (and the pipeline to every follower fill) first.
		before := w.count()
		eventually(t, 10*time.Second, "writes flowing", func() error {
			if w.count() < before+20 {
				return fmt.Errorf("%d writes acknowledged, want %d", w.count(), before+20)
			}
			return nil
		})
		var target *Node
		role := "leader"
		if i%2 == 0 {
			target = c.Leader()
		} else {
			target = c.Followers()[0]
			role = "follower"
		}
		took, dump, ok := stopWithin(target, stopBudget*slow)
		if !ok {
			t.Fatalf("round %d: %s (%s) had not exited %v after SIGTERM; goroutines:\n%s", i, target.ID, role, took, dump)
		}
		if err := target.ExitErr(); err != nil {
			t.Errorf("round %d: %s (%s) exited with %v after SIGTERM\n%s", i, target.ID, role, err, target.LogTail(30))
		}
		t.Logf("round %d: %s (%s) exited %v after SIGTERM", i, target.ID, role, took.Round(time.Millisecond))
		target.Restart()
	}
	acked := w.finish()
	if len(acked) < rounds*20 {
		t.Fatalf("only %d writes acknowledged", len(acked))
	}
	c.WaitReady()
	leader := c.Leader()
	for _, n := range c.Nodes {
		eventually(t, 15*time.Second, n.ID+" applied the leader's last write", func() error {
			return sameApplied(leader, n)
		})
		have := serviceNames(t, n)
		var missing []string
		for _, name := range acked {
			if !have[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s lacks %d of %d acknowledged writes, e.g. %s", n.ID, len(missing), len(acked), strings.Join(missing[:min(5, len(missing))], ", "))
		}
	}
}

// sameApplied is nil once n has applied at least what leader has.
func sameApplied(leader, n *Node) error {
	var a, b struct {
		Applied uint64 `json:"applied_index"`
	}
	for _, x := range []struct {
		n *Node
		v any
	}{{leader, &a}, {n, &b}} {
		r, err := CallE("GET", x.n.URL()+"/v1/cluster/self", nil)
		if err != nil {
			return err
		}
		if r.Status != http.StatusOK {
			return fmt.Errorf("status %d: %s", r.Status, r.Body)
		}
		if err := json.Unmarshal(r.Body, x.v); err != nil {
			return err
		}
	}
	if b.Applied < a.Applied || a.Applied == 0 {
		return fmt.Errorf("applied %d, leader %d", b.Applied, a.Applied)
	}
	return nil
}

// serviceNames lists every service node n serves through GET /v1/services
// (every page).
func serviceNames(t testing.TB, n *Node) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, s := range listServices(t, n) {
		out[strings.TrimSuffix(s.Name, ".")+"."] = true
	}
	return out
}

// listServices reads every page of GET /v1/services from node n.
func listServices(t testing.TB, n *Node) []ServiceJSON {
	t.Helper()
	var all []ServiceJSON
	cursor := ""
	for {
		u := n.URL() + "/v1/services?limit=5000"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		r := Expect(t, http.StatusOK, "GET", u, nil)
		var page struct {
			Services   []ServiceJSON `json:"services"`
			NextCursor string        `json:"next_cursor"`
		}
		r.Decode(t, &page)
		all = append(all, page.Services...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}
