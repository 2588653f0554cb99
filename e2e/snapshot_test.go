package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	backupServices = 1000
	backupSwitched = 10 // services with a deploy and a switch in their history
)

func backupName(i int) string { return fmt.Sprintf("s%04d.%s", i, testZone) }

// loadServices creates n services through base with concurrent PUTs.
func loadServices(t *testing.T, base string, n int) {
	t.Helper()
	const workers = 16
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				body := map[string]any{"ttl": 5, "blue": map[string]any{"version": "1.0",
					"addresses": []string{fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)}}}
				r, err := CallE("PUT", base+"/v1/services/"+backupName(i), body)
				if err == nil && r.Status != http.StatusOK {
					err = fmt.Errorf("PUT %s: %s", backupName(i), r)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

// servicesJSON is GET /v1/services (every page) from n, one JSON object per
// service, in order.
func servicesJSON(t *testing.T, n *Node) []string {
	t.Helper()
	var out []string
	cursor := ""
	for {
		u := n.URL() + "/v1/services?limit=5000"
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		r := Expect(t, http.StatusOK, "GET", u, nil)
		var page struct {
			Services   []json.RawMessage `json:"services"`
			NextCursor string            `json:"next_cursor"`
		}
		r.Decode(t, &page)
		for _, s := range page.Services {
			out = append(out, storedFields(t, s))
		}
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

// storedFields drops from a service's JSON what each node derives at run
// time (the retire view: which members confirmed the last switch) and keeps
// what the state stores.
func storedFields(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "retire")
	delete(m, "safe_to_retire_at")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func historyJSON(t *testing.T, n *Node, name string) string {
	t.Helper()
	return string(Expect(t, http.StatusOK, "GET", n.URL()+"/v1/services/"+name+"/history", nil).Body)
}

// sameServices is nil when n lists exactly want.
func sameServices(t *testing.T, n *Node, want []string) error {
	got := servicesJSON(t, n)
	if len(got) != len(want) {
		return fmt.Errorf("%d services, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Errorf("service %d differs:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
	return nil
}

// A cluster with a thousand services and some history is saved with bgdns
// snapshot save; a new cluster started from the file with serve --restore
// lists the same services and histories; the running cluster, changed
// since, is restored with bgdns snapshot restore and every node answers
// DNS from the restored state; a corrupted file is refused.
func TestSnapshotSaveRestore(t *testing.T) {
	a := StartCluster(t, 3, ClusterOptions{MaxStale: 2 * time.Second})
	leader := a.Leader()
	loadServices(t, leader.URL(), backupServices)
	for i := 0; i < backupSwitched; i++ {
		name := backupName(i)
		leader.CLI("deploy", name, "--version", "2.0", "--addr", fmt.Sprintf("10.2.0.%d", i+1))
		leader.CLI("switch", name, "--reason", "backup test")
	}
	follower := a.Followers()[0]
	wantServices := servicesJSON(t, leader)
	if len(wantServices) != backupServices {
		t.Fatalf("cluster A lists %d services, want %d", len(wantServices), backupServices)
	}
	wantHistory := map[string]string{}
	for i := 0; i < backupSwitched; i++ {
		wantHistory[backupName(i)] = historyJSON(t, leader, backupName(i))
	}

	file := filepath.Join(t.TempDir(), "cluster.snap")
	follower.CLI("snapshot", "save", file)
	var info struct {
		Format         int    `json:"format"`
		Index          uint64 `json:"index"`
		Zones          int    `json:"zones"`
		Services       int    `json:"services"`
		HistoryRecords int    `json:"history_records"`
		ChecksumOK     bool   `json:"checksum_ok"`
	}
	if err := json.Unmarshal([]byte(CLI(t, "", "-o", "json", "snapshot", "inspect", file)), &info); err != nil {
		t.Fatal(err)
	}
	if info.Format != 2 || info.Services != backupServices || info.Zones != 1 || !info.ChecksumOK || info.Index == 0 ||
		info.HistoryRecords < backupServices+2*backupSwitched {
		t.Fatalf("snapshot inspect: %+v", info)
	}
	table := CLI(t, "", "snapshot", "inspect", file)
	for _, want := range []string{"format", "index", fmt.Sprint(backupServices), "checksum", "ok"} {
		if !strings.Contains(table, want) {
			t.Errorf("snapshot inspect table lacks %q:\n%s", want, table)
		}
	}

	// A new cluster from the file.
	b1 := NewNode(t, NodeOptions{ID: "b1", Bootstrap: true, MaxStale: 2 * time.Second, Args: []string{"--restore", file}})
	b1.Start()
	b1.WaitReady()
	b := &Cluster{t: t, Nodes: []*Node{b1}}
	for _, id := range []string{"b2", "b3"} {
		n := NewNode(t, NodeOptions{ID: id, Join: b1.URL(), MaxStale: 2 * time.Second})
		n.Start()
		n.WaitReady()
		b.Nodes = append(b.Nodes, n)
	}
	b.EveryNode(20*time.Second, "the restored services", func(n *Node) error { return sameServices(t, n, wantServices) })
	for _, n := range b.Nodes {
		for name, want := range wantHistory {
			if got := historyJSON(t, n, name); got != want {
				t.Errorf("%s: history of %s:\n got %s\nwant %s", n.ID, name, got, want)
			}
		}
	}

	// Change cluster A, then restore it from the file.
	changed := backupName(0) // switched to green (10.2.0.1) before the save
	leader.CLI("rollback", changed)
	leader.CLI("service", "delete", backupName(1))
	extra := "extra." + testZone
	leader.CLI("service", "put", extra, "--ttl", "5", "--blue", "10.9.9.9", "--blue-version", "1.0")
	a.EveryNode(10*time.Second, "the changes before the restore", func(n *Node) error {
		ans, err := DigE(n.DNSAddr, changed, "A")
		if err != nil {
			return err
		}
		return checkAddrs(ans, "A", 5, "10.1.0.1")
	})
	out := follower.CLI("snapshot", "restore", file)
	if !strings.Contains(out, "restored") {
		t.Fatalf("snapshot restore printed %q", out)
	}
	a.EveryNode(15*time.Second, "the restored state in DNS", func(n *Node) error {
		ans, err := DigE(n.DNSAddr, changed, "A")
		if err != nil {
			return err
		}
		if err := checkAddrs(ans, "A", 5, "10.2.0.1"); err != nil {
			return fmt.Errorf("%s: %w", changed, err)
		}
		ans, err = DigE(n.DNSAddr, backupName(1), "A")
		if err != nil {
			return err
		}
		if err := checkAddrs(ans, "A", 5, "10.2.0.2"); err != nil { // switched to green before the save
			return fmt.Errorf("%s: %w", backupName(1), err)
		}
		ans, err = DigE(n.DNSAddr, extra, "A")
		if err != nil {
			return err
		}
		if ans.Status != "NXDOMAIN" {
			return fmt.Errorf("%s: %s after the restore, want NXDOMAIN", extra, ans.Status)
		}
		return sameServices(t, n, wantServices)
	})

	// The restore is in the audit, on every node.
	a.EveryNode(5*time.Second, "the restore in the audit", func(n *Node) error {
		r, err := CallE("GET", n.URL()+"/v1/audit?limit=1", nil)
		if err != nil {
			return err
		}
		if !strings.Contains(string(r.Body), `"snapshot.restore"`) {
			return fmt.Errorf("last audit record: %s", r.Body)
		}
		return nil
	})

	// A corrupted file is refused, by the CLI and by the API.
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(raw)
	i := bytes.Index(bad, []byte(`"s0500.`))
	if i < 0 {
		t.Fatal("no s0500 in the snapshot")
	}
	bad[i+2] = '9' // s0500 -> s0900: same length, well-formed JSON, wrong checksum
	badFile := filepath.Join(t.TempDir(), "bad.snap")
	if err := os.WriteFile(badFile, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"snapshot", "inspect", badFile}, {"snapshot", "restore", badFile}} {
		r := RunCLIEnv(t, leader.CLIEnv(), leader.URL(), args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "corrupt") {
			t.Errorf("corrupted file: want a failure saying corrupt: %s", r)
		}
	}
	r, err := CallHeaders("PUT", leader.URL()+"/v1/snapshot", nil, map[string]string{"Content-Type": "application/octet-stream"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status < 400 {
		t.Errorf("PUT /v1/snapshot without a body: %s", r)
	}
	req, _ := http.NewRequest("PUT", leader.URL()+"/v1/snapshot", bytes.NewReader(bad))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body.String(), "corrupt") {
		t.Errorf("PUT /v1/snapshot of a corrupted file: %d %s", resp.StatusCode, body.String())
	}
	if err := sameServices(t, leader, wantServices); err != nil {
		t.Errorf("after the refused restore: %v", err)
	}
}
