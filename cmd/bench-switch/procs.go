package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bgdns/bgdns/internal/testports"
)

// node is one bgdns serve process.
type node struct {
	id                          string
	dataDir, logPath            string
	dnsAddr, httpAddr, raftAddr string
	cmd                         *exec.Cmd
	done                        chan struct{}
}

func (n *node) url() string { return "http://" + n.httpAddr }

func newNode(dir, id string) (*node, error) {
	n := &node{id: id, dataDir: filepath.Join(dir, id), logPath: filepath.Join(dir, id+".log")}
	if err := n.newPorts(); err != nil {
		return nil, err
	}
	return n, nil
}

// newPorts picks free loopback ports for the node's three listeners.
func (n *node) newPorts() error {
	var err error
	if n.dnsAddr, err = freePort(true); err != nil {
		return err
	}
	if n.httpAddr, err = freePort(false); err != nil {
		return err
	}
	n.raftAddr, err = freePort(false)
	return err
}

// freePort finds a loopback port free for TCP (and UDP when udp).
func freePort(udp bool) (string, error) {
	return testports.Free("127.0.0.1", udp)
}

func (n *node) start(bin string, extra ...string) error {
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := append([]string{"serve", "--node-id", n.id, "--data-dir", n.dataDir,
		"--dns-addr", n.dnsAddr, "--http-addr", n.httpAddr, "--raft-addr", n.raftAddr,
		"--log-level", "warn",
		// the probes ask every 200 µs from one address: no rate limiting
		"--rrl-rate", "0"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	n.cmd, n.done = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(n.done)
	}()
	return nil
}

func (n *node) running() bool {
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// kill9 sends SIGKILL and waits until the process is gone.
func (n *node) kill9() {
	if !n.running() {
		return
	}
	_ = n.cmd.Process.Kill()
	<-n.done
}

// stop sends SIGTERM, then SIGKILL after timeout.
func (n *node) stop(timeout time.Duration) {
	if !n.running() {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(timeout):
		n.kill9()
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func (n *node) ready() bool {
	resp, err := httpClient.Get(n.url() + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (n *node) waitReady(ctx context.Context) error {
	for !n.ready() {
		if !n.running() {
			return fmt.Errorf("%s exited:\n%s", n.id, n.logTail(20))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w\n%s", n.id, ctx.Err(), n.logTail(20))
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

func (n *node) logTail(lines int) string {
	b, _ := os.ReadFile(n.logPath)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// portTaken reports whether the node exited because one of its ports was
// taken between the probe that chose it and its bind (another program on
// the machine got there first).
func (n *node) portTaken() bool {
	return !n.running() && strings.Contains(n.logTail(20), "address already in use")
}

// waitStarted waits until the node started with args is ready; when it
// exited because a port was taken, it starts it again (empty data
// directory, new ports) up to three times.
func (n *node) waitStarted(ctx context.Context, bin string, args ...string) error {
	for tries := 0; ; tries++ {
		err := n.waitReady(ctx)
		if err == nil || tries == 3 || !n.portTaken() {
			return err
		}
		fmt.Printf("%s: a port was taken before it bound it; starting it again on new ports\n", n.id)
		if err := os.RemoveAll(n.dataDir); err != nil {
			return err
		}
		if err := n.newPorts(); err != nil {
			return err
		}
		if err := n.start(bin, args...); err != nil {
			return err
		}
	}
}
