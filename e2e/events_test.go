package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// eventJSON is one event of /v1/events, `bgdns watch -o json` and the
// stream.
type eventJSON struct {
	Index  uint64 `json:"index"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Action string `json:"action"`
	Record struct {
		Index   uint64 `json:"index"`
		From    string `json:"from"`
		To      string `json:"to"`
		Version string `json:"version"`
		Actor   string `json:"actor"`
		Reason  string `json:"reason"`
	} `json:"record"`
}

// lineReader hands out the lines a process or a stream writes, as they
// come.
type lineReader struct {
	lines chan string
}

func readLines(r io.Reader) *lineReader {
	lr := &lineReader{lines: make(chan string, 1000)}
	go func() {
		defer close(lr.lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lr.lines <- sc.Text()
		}
	}()
	return lr
}

// next returns the next line that keep accepts, failing the test after
// timeout.
func (lr *lineReader) next(t *testing.T, what string, timeout time.Duration, keep func(string) bool) string {
	t.Helper()
	deadline := time.After(timeout * slow)
	for {
		select {
		case l, ok := <-lr.lines:
			if !ok {
				t.Fatalf("%s: the output ended", what)
			}
			if keep(l) {
				return l
			}
		case <-deadline:
			t.Fatalf("%s: nothing after %v", what, timeout*slow)
		}
	}
}

// sseEvent reads one SSE message (id, event, data) from lr, skipping
// comments and the retry field.
func sseEvent(t *testing.T, lr *lineReader, what string) (id, event string, ev eventJSON) {
	t.Helper()
	for {
		l := lr.next(t, what, 30*time.Second, func(string) bool { return true })
		switch {
		case strings.HasPrefix(l, "id: "):
			id = strings.TrimPrefix(l, "id: ")
		case strings.HasPrefix(l, "event: "):
			event = strings.TrimPrefix(l, "event: ")
		case strings.HasPrefix(l, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(l, "data: ")), &ev); err != nil {
				t.Fatalf("%s: data %q: %v", what, l, err)
			}
		case l == "" && id != "":
			return id, event, ev
		}
	}
}

// A `bgdns watch` process and a raw SSE client, both connected to one
// follower, see a switch committed through another node: the records come
// in index order with the switch's fields, and the blocking query then
// waits from the switch's index.
func TestEventsFollowASwitchAcrossTheCluster(t *testing.T) {
	c := StartCluster(t, 3, ClusterOptions{})
	clusterCLI(t, c, "service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	clusterCLI(t, c, "deploy", svcName, "--version", "2.0", "--addr", greenV4[0])
	fs := c.Followers()
	a, b := fs[0], fs[1]
	c.EveryNode(10*time.Second, "the deploy applied", func(n *Node) error {
		var s ServiceJSON
		if err := getJSON(n.URL()+"/v1/services/"+svcName, &s); err != nil {
			return err
		}
		if s.State != "deployed" {
			return fmt.Errorf("%s: state %s", n.ID, s.State)
		}
		return nil
	})

	// bgdns watch against A: the last record first (the deploy), then the
	// next one.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second*slow)
	defer cancel()
	wl, watch, werr := startWatch(t, a.URL(), svcName, "-o", "json", "-n", "1", "--count", "2")
	var deploy eventJSON
	if err := json.Unmarshal([]byte(wl.next(t, "watch: first line", 30*time.Second, func(string) bool { return true })), &deploy); err != nil {
		t.Fatal(err)
	}
	if deploy.Action != "deploy" || deploy.Name != svcName || deploy.Record.Version != "2.0" || deploy.Index == 0 {
		t.Fatalf("watch: first event %+v", deploy)
	}

	// A raw SSE client against A, from the same place.
	req, _ := http.NewRequestWithContext(ctx, "GET", a.URL()+"/v1/events/stream?service="+svcName+"&limit=1", nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := probeClientNoTimeout().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	sl := readLines(res.Body)
	id, event, ev := sseEvent(t, sl, "stream: first event")
	if id != strconv.FormatUint(deploy.Index, 10) || event != "deploy" || ev.Index != deploy.Index {
		t.Fatalf("stream: first event id %s event %s %+v, want the deploy at %d", id, event, ev, deploy.Index)
	}

	// The switch, committed through B.
	eventually(t, 20*time.Second, "switch through "+b.ID, func() error {
		r := RunCLIEnv(t, b.CLIEnv(), b.URL(), "switch", svcName, "--reason", "events e2e", "--request-id", "events-switch-1")
		if r.Code != 0 {
			if strings.Contains(r.Stderr, "leader") {
				return fmt.Errorf("%s", r)
			}
			return permanent{fmt.Errorf("%s", r)}
		}
		return nil
	})

	var sw eventJSON
	line := wl.next(t, "watch: the switch", 30*time.Second, func(string) bool { return true })
	if err := json.Unmarshal([]byte(line), &sw); err != nil {
		t.Fatalf("watch line %q: %v", line, err)
	}
	if sw.Action != "switch" || sw.Kind != "service" || sw.Name != svcName || sw.Index <= deploy.Index ||
		sw.Record.From != "blue" || sw.Record.To != "green" || sw.Record.Version != "2.0" || sw.Record.Reason != "events e2e" {
		t.Fatalf("watch: switch event %+v (deploy at %d)", sw, deploy.Index)
	}
	id, event, ev = sseEvent(t, sl, "stream: the switch")
	if id != strconv.FormatUint(sw.Index, 10) || event != "switch" || ev.Record.To != "green" || ev.Record.Reason != "events e2e" {
		t.Fatalf("stream: id %s event %s %+v, want the switch at %d", id, event, ev, sw.Index)
	}
	if err := watch.Wait(); err != nil { // --count 2: it exits by itself
		t.Fatalf("watch: %v\n%s", err, werr.String())
	}

	// The blocking query from the switch's index waits, then answers the
	// same index with nothing newer.
	st, hdr, body := getWithHeader(t, a.URL()+"/v1/events?service="+svcName+"&index="+strconv.FormatUint(sw.Index, 10)+"&wait=1s")
	var l struct {
		Index  uint64      `json:"index"`
		Events []eventJSON `json:"events"`
	}
	if err := json.Unmarshal(body, &l); err != nil || st != 200 {
		t.Fatalf("blocking query: %d %s", st, body)
	}
	if len(l.Events) != 0 || l.Index < sw.Index || hdr.Get("X-Bgdns-Index") != strconv.FormatUint(l.Index, 10) {
		t.Fatalf("blocking query after the switch: %s (header %q)", body, hdr.Get("X-Bgdns-Index"))
	}
	// From the deploy's index it answers at once with the switch.
	_, _, body = getWithHeader(t, a.URL()+"/v1/events?service="+svcName+"&index="+strconv.FormatUint(deploy.Index, 10)+"&wait=5m")
	if err := json.Unmarshal(body, &l); err != nil || len(l.Events) != 1 || l.Events[0].Index != sw.Index {
		t.Fatalf("blocking query from the deploy: %s", body)
	}
}

func probeClientNoTimeout() *http.Client {
	return &http.Client{Transport: harnessTransport}
}

func getJSON(url string, v any) error {
	st, body, err := httpGet(url)
	if err != nil {
		return err
	}
	if st != 200 {
		return fmt.Errorf("GET %s: %d %s", url, st, body)
	}
	return json.Unmarshal(body, v)
}

func getWithHeader(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second*slow)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := probeClientNoTimeout().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, b
}

// startWatch runs `bgdns --server server watch args...` and hands out its
// stdout lines; the process is killed at the end of the test.
func startWatch(t *testing.T, server string, args ...string) (*lineReader, *exec.Cmd, *syncBuf) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second*slow)
	cmd := exec.CommandContext(ctx, binPath, append([]string{"--server", server, "watch"}, args...)...)
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = childAttrs()
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stderr := &syncBuf{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	return readLines(out), cmd, stderr
}

func decodeEvent(t *testing.T, what, line string) eventJSON {
	t.Helper()
	var ev eventJSON
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatalf("%s: %q: %v", what, line, err)
	}
	return ev
}

// `bgdns watch` connected to a node that stops (gracefully: the open
// blocking query does not hold its shutdown) retries until the node is
// back, and then prints what was committed meanwhile, once, in order.
func TestWatchResumesAcrossANodeRestart(t *testing.T) {
	c := StartCluster(t, 3, ClusterOptions{})
	clusterCLI(t, c, "service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	clusterCLI(t, c, "deploy", svcName, "--version", "2.0", "--addr", greenV4[0])
	a := c.Followers()[0]
	c.EveryNode(10*time.Second, "the deploy applied", func(n *Node) error {
		var s ServiceJSON
		if err := getJSON(n.URL()+"/v1/services/"+svcName, &s); err != nil {
			return err
		}
		if s.State != "deployed" {
			return fmt.Errorf("%s: state %s", n.ID, s.State)
		}
		return nil
	})
	lines, watch, stderr := startWatch(t, a.URL(), svcName, "-o", "json", "-n", "1", "--count", "3")
	any := func(string) bool { return true }
	deploy := decodeEvent(t, "first line", lines.next(t, "watch: first line", 30*time.Second, any))
	if deploy.Action != "deploy" {
		t.Fatalf("first event %+v", deploy)
	}

	a.Stop() // fails the test unless the node exits cleanly, watcher connected
	clusterCLI(t, c, "switch", svcName, "--reason", "while a was down")
	eventually(t, 20*time.Second, "watch retrying", func() error {
		if !strings.Contains(stderr.String(), "retrying") {
			return fmt.Errorf("stderr: %q", stderr.String())
		}
		return nil
	})
	a.Restart()
	sw := decodeEvent(t, "second line", lines.next(t, "watch: the switch made while the node was down", 40*time.Second, any))
	if sw.Action != "switch" || sw.Index <= deploy.Index || sw.Record.Reason != "while a was down" {
		t.Fatalf("after the restart: %+v (deploy at %d)", sw, deploy.Index)
	}
	clusterCLI(t, c, "rollback", svcName)
	rb := decodeEvent(t, "third line", lines.next(t, "watch: the rollback", 30*time.Second, any))
	if rb.Action != "rollback" || rb.Index <= sw.Index || rb.Record.To != "blue" {
		t.Fatalf("then: %+v (switch at %d)", rb, sw.Index)
	}
	if err := watch.Wait(); err != nil {
		t.Fatalf("watch: %v\n%s", err, stderr.String())
	}
}
