package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bgdns/bgdns/internal/testports"
)

// Zone is the zone every fault run serves.
const Zone = "faults.test."

// BuildBinary builds ./cmd/bgdns (without -race: fault runs need the real
// speed) from the repository root into dir and returns its path.
func BuildBinary(root, dir string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		root := os.Getenv("GOROOT")
		if root == "" {
			return "", fmt.Errorf("go is not on PATH and GOROOT is not set: %w", err)
		}
		goBin = filepath.Join(root, "bin", "go")
	}
	out := filepath.Join(dir, "bgdns")
	cmd := exec.Command(goBin, "build", "-o", out, "./cmd/bgdns")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/bgdns: %v\n%s", err, b)
	}
	return out, nil
}

// Node is one bgdns serve process. Its ports and data directory stay the
// same across restarts.
type Node struct {
	ID       string
	Bin      string
	Dir      string // holds data/ and the log
	DataDir  string
	LogPath  string
	DNSAddr  string
	HTTPAddr string
	RaftAddr string
	Base     []string // serve flags for every start
	Args     []string // serve flags for the next start (bootstrap, join)
	// GID, when set, is the group id the process runs with (as root), so
	// that iptables rules can name its packets (see Firewall).
	GID uint32

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	paused bool
	runs   int
	// stopping is set when the harness stops or kills the process; an
	// exit without it is unexpected (a crash, or a signal from outside).
	stopping   bool
	unexpected []string
}

// URL is the node's API base address.
func (n *Node) URL() string { return "http://" + n.HTTPAddr }

// Start launches the process (appending its output to LogPath).
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil && !closed(n.done) {
		return fmt.Errorf("%s: already running", n.ID)
	}
	logf, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	n.runs++
	args := append([]string{"serve",
		"--node-id", n.ID, "--data-dir", n.DataDir, "--zone", Zone,
		"--dns-addr", n.DNSAddr, "--http-addr", n.HTTPAddr, "--raft-addr", n.RaftAddr,
	}, append(append([]string(nil), n.Base...), n.Args...)...)
	fmt.Fprintf(logf, "=== run %d: bgdns %s\n", n.runs, strings.Join(args, " "))
	cmd := exec.Command(n.Bin, args...)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if n.GID != 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(os.Geteuid()), Gid: n.GID}
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("%s: start: %w", n.ID, err)
	}
	done := make(chan struct{})
	n.cmd, n.done, n.paused, n.stopping = cmd, done, false, false
	go func() {
		_ = cmd.Wait()
		logf.Close()
		n.mu.Lock()
		if !n.stopping {
			n.unexpected = append(n.unexpected, fmt.Sprintf("%s (run %d) exited by itself: %v", n.ID, n.runs, cmd.ProcessState))
		}
		n.mu.Unlock()
		close(done)
	}()
	return nil
}

// Running reports whether the process is alive (paused counts as alive).
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil && !closed(n.done)
}

// Paused reports whether the process is stopped with SIGSTOP.
func (n *Node) Paused() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paused && n.cmd != nil && !closed(n.done)
}

// Pause sends SIGSTOP to the node's process group.
func (n *Node) Pause() error { return n.setPaused(true) }

// Resume sends SIGCONT to the node's process group.
func (n *Node) Resume() error { return n.setPaused(false) }

func (n *Node) setPaused(p bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || closed(n.done) {
		return fmt.Errorf("%s: not running", n.ID)
	}
	sig := syscall.SIGCONT
	if p {
		sig = syscall.SIGSTOP
	}
	if err := syscall.Kill(-n.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("%s: %v: %w", n.ID, sig, err)
	}
	n.paused = p
	return nil
}

// Kill9 sends SIGKILL and waits for the process to be gone.
func (n *Node) Kill9() { n.stop(syscall.SIGKILL, 10*time.Second) }

// Stop sends SIGTERM (and SIGCONT, in case it is paused), and SIGKILL when
// the process has not exited within timeout. It reports whether SIGTERM
// was enough.
func (n *Node) Stop(timeout time.Duration) bool {
	if n.stop(syscall.SIGTERM, timeout) {
		return true
	}
	n.stop(syscall.SIGKILL, 10*time.Second)
	return false
}

// UnexpectedExits lists the runs of the node that ended without the
// harness stopping them.
func (n *Node) UnexpectedExits() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.unexpected...)
}

func (n *Node) stop(sig syscall.Signal, timeout time.Duration) bool {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.stopping = true
	n.mu.Unlock()
	if cmd == nil || closed(done) {
		return true
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	if sig != syscall.SIGKILL {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGCONT)
	}
	select {
	case <-done:
		n.mu.Lock()
		n.paused = false
		n.mu.Unlock()
		return true
	case <-time.After(timeout):
		return false
	}
}

// Exited is closed when the current process has exited.
func (n *Node) Exited() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.done
}

// Ready reports whether /readyz answers 200.
func (n *Node) Ready() bool {
	code, _, err := httpGet(n.URL()+"/readyz", time.Second)
	return err == nil && code == http.StatusOK
}

// WaitReady polls /readyz until it answers 200, the process exits, or
// timeout passes.
func (n *Node) WaitReady(timeout time.Duration) error {
	done := n.Exited()
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-done:
			return fmt.Errorf("%s exited before it was ready", n.ID)
		default:
		}
		if n.Ready() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v", n.ID, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// LogTail returns the last lines of the node's log.
func (n *Node) LogTail(lines int) string {
	b, _ := os.ReadFile(n.LogPath)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return fmt.Sprintf("--- %s (%s), last %d lines:\n%s", n.ID, n.LogPath, len(all), strings.Join(all, "\n"))
}

// ClusterInfo is what GET /v1/cluster says.
type ClusterInfo struct {
	Self   string `json:"self"`
	Leader *struct {
		ID string `json:"id"`
	} `json:"leader"`
	CommitIndex uint64 `json:"commit_index"`
}

// CommitIndex asks n for its raft commit index (GET /v1/cluster).
func (n *Node) CommitIndex() (uint64, error) {
	code, b, err := httpGet(n.URL()+"/v1/cluster", time.Second)
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("%s: GET /v1/cluster: %d", n.ID, code)
	}
	var ci ClusterInfo
	if err := json.Unmarshal(b, &ci); err != nil {
		return 0, err
	}
	return ci.CommitIndex, nil
}

// Leader asks n who the leader is ("" when it knows none).
func (n *Node) Leader() (string, error) {
	code, b, err := httpGet(n.URL()+"/v1/cluster", time.Second)
	if err != nil {
		return "", err
	}
	if code != http.StatusOK {
		return "", fmt.Errorf("%s: GET /v1/cluster: %d", n.ID, code)
	}
	var ci ClusterInfo
	if err := json.Unmarshal(b, &ci); err != nil {
		return "", err
	}
	if ci.Leader == nil {
		return "", nil
	}
	return ci.Leader.ID, nil
}

// Ports ---------------------------------------------------------------------

// FreeAddr returns 127.0.0.1:port with the port free for TCP and, when
// udp is set, for UDP too; no port is handed out twice by this process
// (internal/testports: below the ephemeral range).
func FreeAddr(udp bool) (string, error) {
	return testports.Free("127.0.0.1", udp)
}

// NewNode allocates ports and directories for a node under dir.
func NewNode(bin, dir, id string) (*Node, error) {
	n := &Node{ID: id, Bin: bin, Dir: dir, DataDir: filepath.Join(dir, "data"), LogPath: filepath.Join(dir, id+".log")}
	var err error
	if n.DNSAddr, err = FreeAddr(true); err != nil {
		return nil, err
	}
	if n.HTTPAddr, err = FreeAddr(false); err != nil {
		return nil, err
	}
	if n.RaftAddr, err = FreeAddr(false); err != nil {
		return nil, err
	}
	return n, os.MkdirAll(dir, 0o755)
}

// helpers -------------------------------------------------------------------

func closed(c chan struct{}) bool {
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

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BGDNS_") {
			env = append(env, kv)
		}
	}
	return env
}

var plainClient = &http.Client{Transport: &http.Transport{
	MaxIdleConnsPerHost: 64,
	IdleConnTimeout:     30 * time.Second,
}}

func httpGet(url string, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, b, err
}
