package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testZone is the zone every end-to-end test serves unless it says otherwise.
const testZone = "bg.example.test."

// NodeOptions say how to run one `bgdns serve` process. Zero values take
// defaults: host 127.0.0.1, zone testZone, fresh free ports.
type NodeOptions struct {
	ID        string
	Host      string // loopback address to bind (127.0.0.1, 127.0.0.72, ...)
	Zone      string
	Bootstrap bool
	Join      string        // http://host:port of any member
	MaxStale  time.Duration // --max-stale when non-zero
	Args      []string      // more flags for serve
	Env       []string      // more environment (KEY=VALUE)
	// TLS, when set, gives the node a certificate of that CA (for its ID
	// and Host) and starts it with --tls-cert, --tls-key and --tls-ca; its
	// API is then https, verified by the harness with that CA.
	TLS *TestCA
	// ACL keeps ACL tokens on with TLS (serve's default there). Without
	// it a TLS node runs with --acl=false, so that tests of other things
	// need no tokens.
	ACL bool
	// Bin, when set, is the bgdns binary to run instead of this build (an
	// older release, in the upgrade test).
	Bin string
	// Via says how the settings above reach serve: "" or "flags" on the
	// command line, "env" as BGDNS_* variables, "yaml" in a --config file.
	Via string
	// HTTPAll binds the API on every interface (0.0.0.0 at the node's
	// HTTP port, chosen free on all of them) and advertises URL().
	HTTPAll bool
	// Metrics gives the node a plain metrics listener (--metrics-addr) on
	// a free port of its host, MetricsAddr.
	Metrics bool
}

// Node is one bgdns server process under test. Its ports and data
// directory stay the same across Kill9/Stop and Restart.
type Node struct {
	t    testing.TB
	Opts NodeOptions

	ID       string
	DataDir  string
	DNSAddr  string // host:port, UDP and TCP
	HTTPAddr string // host:port
	RaftAddr string // host:port
	// MetricsAddr is the --metrics-addr listener with NodeOptions.Metrics.
	MetricsAddr string
	LogPath     string // stdout and stderr of every run, appended
	CertFile    string // with TLS: the node's certificate and key
	KeyFile     string

	mu        sync.Mutex
	cmd       *exec.Cmd
	done      chan struct{} // closed when the current process has exited
	runs      int
	exited    error
	wasReady  bool // ready at least once: its ports are in its Raft state
	portTries int
}

// NewNode allocates ports and a data directory for a node and registers its
// cleanup (the process is stopped, its log printed if the test failed). It
// does not start the process.
func NewNode(t testing.TB, o NodeOptions) *Node {
	t.Helper()
	requireE2E(t, "dig")
	if o.ID == "" {
		o.ID = "n1"
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Zone == "" {
		o.Zone = testZone
	}
	dir := t.TempDir()
	n := &Node{
		t:        t,
		Opts:     o,
		ID:       o.ID,
		DataDir:  filepath.Join(dir, "data"),
		LogPath:  filepath.Join(dir, o.ID+".log"),
		DNSAddr:  freeDNSAddr(t, o.Host),
		HTTPAddr: pickHTTPAddr(t, o),
		RaftAddr: freeTCPAddr(t, o.Host),
	}
	if o.Metrics {
		n.MetricsAddr = freeTCPAddr(t, o.Host)
	}
	if o.TLS != nil {
		n.CertFile, n.KeyFile = o.TLS.Issue(o.ID, dir, "--ip", o.Host)
	}
	t.Cleanup(n.cleanup)
	return n
}

// pickHTTPAddr picks the API address for a node with these options: a
// port free on the node's host, or on every interface with HTTPAll.
func pickHTTPAddr(t testing.TB, o NodeOptions) string {
	t.Helper()
	if !o.HTTPAll {
		return freeTCPAddr(t, o.Host)
	}
	_, port, _ := net.SplitHostPort(freeTCPAddr(t, "0.0.0.0"))
	return net.JoinHostPort(o.Host, port)
}

// StartNode starts a node and waits until it is ready.
func StartNode(t testing.TB, o NodeOptions) *Node {
	t.Helper()
	n := NewNode(t, o)
	n.Start()
	n.WaitReady()
	return n
}

// URL is the node's API base address (https with TLS).
func (n *Node) URL() string {
	if n.Opts.TLS != nil {
		return "https://" + n.HTTPAddr
	}
	return "http://" + n.HTTPAddr
}

// CLIEnv is the environment a client of this node needs: the CA that
// signed its certificate, with TLS.
func (n *Node) CLIEnv() []string {
	if n.Opts.TLS != nil {
		return []string{"BGDNS_CACERT=" + n.Opts.TLS.CertFile()}
	}
	return nil
}

// settings returns the node's serve settings as flag name/value pairs.
func (n *Node) settings() [][2]string {
	httpAddr := n.HTTPAddr
	if n.Opts.HTTPAll {
		_, port, _ := net.SplitHostPort(n.HTTPAddr)
		httpAddr = "0.0.0.0:" + port
	}
	kv := [][2]string{
		{"node-id", n.ID},
		{"data-dir", n.DataDir},
		{"zone", n.Opts.Zone},
		{"dns-addr", n.DNSAddr},
		{"http-addr", httpAddr},
		{"raft-addr", n.RaftAddr},
	}
	if n.Opts.HTTPAll {
		kv = append(kv, [2]string{"http-advertise", n.URL()})
	}
	if n.MetricsAddr != "" {
		kv = append(kv, [2]string{"metrics-addr", n.MetricsAddr})
	}
	if n.Opts.Bootstrap {
		kv = append(kv, [2]string{"bootstrap", "true"})
	}
	if n.Opts.Join != "" {
		kv = append(kv, [2]string{"join", n.Opts.Join})
	}
	if n.Opts.MaxStale > 0 {
		kv = append(kv, [2]string{"max-stale", n.Opts.MaxStale.String()})
	}
	if n.Opts.TLS != nil {
		kv = append(kv, [2]string{"tls-cert", n.CertFile}, [2]string{"tls-key", n.KeyFile}, [2]string{"tls-ca", n.Opts.TLS.CertFile()})
		if !n.Opts.ACL {
			kv = append(kv, [2]string{"acl", "false"})
		}
	}
	return kv
}

// command returns serve's arguments and extra environment for this run.
func (n *Node) command() (args, env []string) {
	args = []string{"serve"}
	switch n.Opts.Via {
	case "", "flags":
		for _, kv := range n.settings() {
			switch kv[1] {
			case "true":
				args = append(args, "--"+kv[0])
			case "false":
				args = append(args, "--"+kv[0]+"=false")
			default:
				args = append(args, "--"+kv[0], kv[1])
			}
		}
	case "env":
		for _, kv := range n.settings() {
			env = append(env, "BGDNS_"+strings.ToUpper(strings.ReplaceAll(kv[0], "-", "_"))+"="+kv[1])
		}
	case "yaml":
		var b strings.Builder
		b.WriteString("# written by the e2e harness\n")
		for _, kv := range n.settings() {
			fmt.Fprintf(&b, "%s: %q\n", kv[0], kv[1])
		}
		path := filepath.Join(filepath.Dir(n.DataDir), fmt.Sprintf("%s-run%d.yaml", n.ID, n.runs))
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			n.t.Fatal(err)
		}
		args = append(args, "--config", path)
	default:
		n.t.Fatalf("unknown NodeOptions.Via %q", n.Opts.Via)
	}
	return append(args, n.Opts.Args...), append(env, n.Opts.Env...)
}

// Start launches the process without waiting for it to be ready (a
// restarted cluster member cannot be ready before a quorum is back).
func (n *Node) Start() {
	n.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil && !isClosed(n.done) {
		n.t.Fatalf("%s: Start while still running", n.ID)
	}
	logf, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		n.t.Fatal(err)
	}
	n.runs++
	args, env := n.command()
	fmt.Fprintf(logf, "=== run %d: %s bgdns %s\n", n.runs, strings.Join(redactEnv(env), " "), strings.Join(args, " "))
	bin := binPath
	if n.Opts.Bin != "" {
		bin = n.Opts.Bin
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = childAttrs()
	if n.Opts.TLS != nil {
		trustAddr(n.HTTPAddr, n.Opts.TLS.Pool())
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		n.t.Fatalf("%s: start: %v", n.ID, err)
	}
	done := make(chan struct{})
	n.cmd, n.done, n.exited = cmd, done, nil
	go func() {
		err := cmd.Wait()
		logf.Close()
		n.mu.Lock()
		n.exited = err
		n.mu.Unlock()
		close(done)
	}()
}

// WaitReady waits until GET /readyz answers 200 "ready", failing the test (with the
// node's log) if the process exits first or the deadline passes. A node
// that never was ready and exited because one of its ports was taken in the
// meantime (the ports are probed, then released) is started again on new
// ports with an empty data directory.
func (n *Node) WaitReady() {
	n.t.Helper()
	for {
		err := n.waitReady(20 * time.Second)
		if err == nil {
			n.wasReady = true
			return
		}
		if !n.wasReady && n.portTries < 3 && !n.Running() && strings.Contains(n.lastRunLog(), "address already in use") {
			n.portTries++
			n.t.Logf("%s: a port was taken before bgdns bound it; starting again on new ports", n.ID)
			if err := os.RemoveAll(n.DataDir); err != nil {
				n.t.Fatal(err)
			}
			n.DNSAddr = freeDNSAddr(n.t, n.Opts.Host)
			n.HTTPAddr = pickHTTPAddr(n.t, n.Opts)
			n.RaftAddr = freeTCPAddr(n.t, n.Opts.Host)
			if n.MetricsAddr != "" {
				n.MetricsAddr = freeTCPAddr(n.t, n.Opts.Host)
			}
			n.Start()
			continue
		}
		n.t.Fatalf("%s not ready: %v\n%s", n.ID, err, n.LogTail(60))
	}
}

// lastRunLog is what the latest run of the process printed.
func (n *Node) lastRunLog() string {
	l := n.Log()
	if i := strings.LastIndex(l, "=== run "); i >= 0 {
		return l[i:]
	}
	return l
}

func (n *Node) waitReady(timeout time.Duration) error {
	done := n.doneChan()
	return poll(timeout, func() error {
		select {
		case <-done:
			return permanent{fmt.Errorf("process exited: %v", n.ExitErr())}
		default:
		}
		code, body, err := httpGet(n.URL() + "/readyz")
		if err != nil {
			return err
		}
		if code != http.StatusOK || !readyBody(body) {
			return fmt.Errorf("/readyz: %d %s", code, body)
		}
		return nil
	})
}

// readyBody reports whether a /readyz body says "ready" (a 200 can also be
// "stale": serving, but not confirmed current).
func readyBody(body []byte) bool {
	var h struct {
		Status string `json:"status"`
	}
	return json.Unmarshal(body, &h) == nil && h.Status == "ready"
}

// Ready reports whether /readyz says ready (current, not stale) right now.
func (n *Node) Ready() bool {
	code, body, err := httpGet(n.URL() + "/readyz")
	return err == nil && code == http.StatusOK && readyBody(body)
}

// Readyz returns the HTTP status of GET /readyz and the "status" of its
// body ("ready", "stale", "unavailable", "diverged").
func (n *Node) Readyz() (int, string, error) {
	code, b, err := httpGet(n.URL() + "/readyz")
	if err != nil {
		return 0, "", err
	}
	var h struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return code, "", fmt.Errorf("/readyz: %d, body not JSON: %v: %s", code, err, b)
	}
	return code, h.Status, nil
}

// Kill9 sends SIGKILL and waits for the process to be gone.
func (n *Node) Kill9() {
	n.t.Helper()
	n.signal(syscall.SIGKILL, 10*time.Second)
}

// Stop sends SIGTERM and waits for an orderly exit (SIGKILL after 15s).
// A non-zero exit on SIGTERM fails the test.
func (n *Node) Stop() {
	n.t.Helper()
	if !n.signal(syscall.SIGTERM, 15*time.Second) {
		n.t.Errorf("%s: no exit within 15s of SIGTERM; killed\n%s", n.ID, n.LogTail(40))
		n.signal(syscall.SIGKILL, 10*time.Second)
		return
	}
	if err := n.ExitErr(); err != nil {
		n.t.Errorf("%s: exit after SIGTERM: %v\n%s", n.ID, err, n.LogTail(40))
	}
}

// signal sends sig to a running process and waits up to timeout for it to
// exit; it reports whether it did.
func (n *Node) signal(sig syscall.Signal, timeout time.Duration) bool {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil || isClosed(done) {
		return true
	}
	_ = cmd.Process.Signal(sig)
	if sig != syscall.SIGKILL {
		_ = cmd.Process.Signal(syscall.SIGCONT) // a paused process acts on it only once running
	}
	select {
	case <-done:
		return true
	case <-time.After(timeout * slow):
		return false
	}
}

// Pause freezes the process with SIGSTOP: it neither answers nor sends
// anything (a hung machine, or one cut off by a partition) until Resume.
func (n *Node) Pause() {
	n.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || isClosed(n.done) {
		n.t.Fatalf("%s: Pause while not running", n.ID)
	}
	if err := n.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		n.t.Fatalf("%s: SIGSTOP: %v", n.ID, err)
	}
}

// Resume lets a paused process run again (SIGCONT).
func (n *Node) Resume() {
	n.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil && !isClosed(n.done) {
		if err := n.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			n.t.Fatalf("%s: SIGCONT: %v", n.ID, err)
		}
	}
}

// Restart starts the node again on the same data directory and ports,
// without --bootstrap or --join, and waits until it is ready.
func (n *Node) Restart() {
	n.t.Helper()
	n.RestartNoWait()
	n.WaitReady()
}

// RestartNoWait is Restart without waiting for readiness.
func (n *Node) RestartNoWait() {
	n.t.Helper()
	if n.Running() {
		n.t.Fatalf("%s: Restart while still running (Kill9 or Stop it first)", n.ID)
	}
	n.Opts.Bootstrap = false
	n.Opts.Join = ""
	n.Start()
}

// Running reports whether the process is alive.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil && !isClosed(n.done)
}

// ExitErr is the exit status of the last process (nil while running or on
// a clean exit).
func (n *Node) ExitErr() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.exited
}

func (n *Node) doneChan() chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.done
}

// Log returns everything the node printed, over all its runs.
func (n *Node) Log() string {
	b, _ := os.ReadFile(n.LogPath)
	return string(b)
}

// LogTail returns the last lines of the node's log, labelled.
func (n *Node) LogTail(lines int) string {
	f, err := os.Open(n.LogPath)
	if err != nil {
		return fmt.Sprintf("--- %s: no log: %v", n.ID, err)
	}
	defer f.Close()
	var all []string
	sc := bufio.NewScanner(io.LimitReader(f, 8<<20))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		all = append(all, sc.Text())
	}
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return fmt.Sprintf("--- log of %s (%s), last %d lines:\n%s\n--- end of %s log",
		n.ID, n.LogPath, len(all), strings.Join(all, "\n"), n.ID)
}

// cleanup stops the process at the end of the test, prints its log when the
// test failed, and fails the test on a data race report from a -race build.
func (n *Node) cleanup() {
	if n.Running() {
		if !n.signal(syscall.SIGTERM, 15*time.Second) {
			n.signal(syscall.SIGKILL, 10*time.Second)
		}
	}
	if n.runs == 0 {
		return
	}
	log := n.Log()
	if i := strings.Index(log, "WARNING: DATA RACE"); i >= 0 {
		report := log[i:]
		if j := strings.Index(report, "\n=================="); j >= 0 {
			report = report[:j]
		}
		n.t.Errorf("%s: the race detector reported a data race in bgdns:\n%s", n.ID, report)
	}
	if strings.Contains(log, "panic: ") {
		n.t.Errorf("%s: bgdns panicked", n.ID)
	}
	if n.t.Failed() {
		n.t.Log(n.LogTail(150))
	}
}

// Dig queries this node's DNS address (see Dig).
func (n *Node) Dig(name, qtype string, opts ...string) *DNSAnswer {
	n.t.Helper()
	return Dig(n.t, n.DNSAddr, name, qtype, opts...)
}

// CLI runs the bgdns client against this node and returns its stdout; a
// non-zero exit fails the test.
func (n *Node) CLI(args ...string) string {
	n.t.Helper()
	r := RunCLIEnv(n.t, n.CLIEnv(), n.URL(), args...)
	if r.Code != 0 {
		n.t.Fatalf("%s", r)
	}
	return r.Stdout
}

// PID is the process id of the running process (0 when none).
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.Process == nil || isClosed(n.done) {
		return 0
	}
	return n.cmd.Process.Pid
}

// redactEnv hides the values of secret variables (tokens, keys) in what
// the harness prints.
func redactEnv(env []string) []string {
	out := make([]string, len(env))
	for i, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if u := strings.ToUpper(k); strings.Contains(u, "TOKEN") || strings.Contains(u, "SECRET") || strings.Contains(u, "PASSWORD") {
			kv = k + "=<redacted>"
		}
		out[i] = kv
	}
	return out
}

// cleanEnv is the test's environment without BGDNS_* variables, so a
// developer's shell settings cannot change what a test runs.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BGDNS_") {
			env = append(env, kv)
		}
	}
	return env
}

func isClosed(c chan struct{}) bool {
	if c == nil {
		return true
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// httpGet is a GET with a short timeout; it returns status and body.
func httpGet(url string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second*slow)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, b, err
}
