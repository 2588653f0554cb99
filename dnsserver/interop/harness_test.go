//go:build interop

package interop

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/dnsserver"
)

const (
	zone       = "bg.example.test."
	svc        = "api.bg.example.test."
	keyName    = "xfr-key"
	keySecret  = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="
	keySpec    = "hmac-sha256:" + keyName + ":" + keySecret
	blueAddr   = "10.0.0.11"
	greenAddr  = "10.0.0.21"
	serviceTTL = 2
)

// tool returns the path of a peer binary; a missing one fails the test
// (CI installs them with scripts/install-test-deps.sh).
func tool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("%s is not installed: run scripts/install-test-deps.sh", name)
	return ""
}

// node is a Source like the cluster node: commands applied to an
// immutable State published through an atomic pointer.
type node struct {
	mu      sync.Mutex // serialises apply, as the Raft FSM does
	st      atomic.Pointer[control.State]
	serving atomic.Bool
	index   uint64
	srv     *dnsserver.Server
}

func (n *node) State() *control.State { return n.st.Load() }
func (n *node) Serving() bool         { return n.serving.Load() }

func (n *node) apply(t *testing.T, cmd control.Command) {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.index++
	cmd.Time = time.Now().UTC()
	st, res := n.st.Load().Apply(cmd, n.index)
	if res.Err != nil {
		t.Fatalf("apply %s %s: %v", cmd.Op, cmd.Name, res.Err)
	}
	n.st.Store(st)
	if n.srv != nil {
		n.srv.StateChanged()
	}
}

// startBGDNS runs the DNS server on a free loopback port with the zone
// and the api service (blue active, green deployed).
func startBGDNS(t *testing.T, cfg dnsserver.Config) (*node, string, int) {
	t.Helper()
	n := &node{}
	n.st.Store(control.Empty())
	n.serving.Store(true)
	n.apply(t, control.Command{Op: control.OpZonePut, Name: zone, Zone: &control.ZoneSpec{
		SOA:  control.SOA{Minimum: 30},
		NS:   []string{"ns1." + zone},
		Glue: map[string][]netip.Addr{"ns1." + zone: {netip.MustParseAddr("127.0.0.1")}},
	}})
	n.apply(t, control.Command{Op: control.OpServicePut, Name: svc, Service: &control.ServiceSpec{
		TTL: serviceTTL, Blue: &control.Pool{Version: "1.0", Addresses: []netip.Addr{netip.MustParseAddr(blueAddr)}},
	}})
	n.apply(t, control.Command{Op: control.OpDeploy, Name: svc, Deploy: &control.DeploySpec{
		Version: "2.0", Addresses: []netip.Addr{netip.MustParseAddr(greenAddr), netip.MustParseAddr("2001:db8::21")},
	}})
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.NodeID == "" {
		cfg.NodeID = "n1"
	}
	s := dnsserver.New(cfg, n)
	if err := s.Start(); err != nil {
		t.Fatalf("start bgdns: %v", err)
	}
	n.srv = s
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	_, p, _ := net.SplitHostPort(s.Addr())
	port, _ := strconv.Atoi(p)
	return n, s.Addr(), port
}

// freePort returns a loopback port free for both UDP and TCP right now.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// daemon runs a peer as a child process until the test ends; its output
// goes to a log file printed when the test fails.
func daemon(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	logPath := filepath.Join(dir, filepath.Base(name)+".out")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		// End the peer's own process group only (it may fork helpers).
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		f.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s output:\n%s", filepath.Base(name), tail(b, 4000))
			for _, extra := range []string{"nsd.log"} {
				if b, err := os.ReadFile(filepath.Join(dir, extra)); err == nil {
					t.Logf("%s:\n%s", extra, tail(b, 4000))
				}
			}
		}
	})
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// run executes a client tool and returns its combined output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run() // dig exits non-zero on some answers; the output says why
	return out.String()
}

// dig queries server (host:port) with dig and returns the output.
func dig(t *testing.T, server string, args ...string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(server)
	base := []string{"@" + host, "-p", port, "+time=1", "+tries=1"}
	return run(t, tool(t, "dig"), append(base, args...)...)
}

// kdig queries server (host:port) with kdig and returns the output.
func kdig(t *testing.T, server string, args ...string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(server)
	base := []string{"@" + host, "-p", port, "+time=1", "+retry=0"}
	return run(t, tool(t, "kdig"), append(base, args...)...)
}

var (
	statusRe = regexp.MustCompile(`status: ([A-Z]+)`)
	flagsRe  = regexp.MustCompile(`(?i);; flags: ([a-z ]*)[;\n]`)
)

// status is the rcode dig or kdig printed.
func status(out string) string {
	if m := statusRe.FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return ""
}

// flags are the header flags dig or kdig printed.
func flags(out string) map[string]bool {
	f := map[string]bool{}
	if m := flagsRe.FindStringSubmatch(out); m != nil {
		for _, x := range strings.Fields(m[1]) {
			f[strings.ToLower(x)] = true
		}
	}
	return f
}

// short is the answer of `dig +short`, one line per record, sorted as printed.
func short(t *testing.T, server string, args ...string) string {
	t.Helper()
	return strings.TrimSpace(dig(t, server, append([]string{"+short"}, args...)...))
}

// eventually polls cond until it holds or the deadline passes; it returns
// how long it took.
func eventually(t *testing.T, within time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(within)
	last := ""
	for {
		ok, got := cond()
		if ok {
			return time.Since(start)
		}
		last = got
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (last: %q)", what, within, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// version is the first line a peer prints about its version.
func version(t *testing.T, name string, arg string) string {
	out := run(t, tool(t, name), arg)
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	return line
}
