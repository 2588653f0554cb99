package faults

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// dialAs connects to addr from a bash running with group id gid and
// reports whether the connection was made within 2 s.
func dialAs(t *testing.T, gid uint32, addr string) bool {
	host, p, _ := net.SplitHostPort(addr)
	cmd := exec.Command("timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/"+host+"/"+p)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(os.Geteuid()), Gid: gid}}
	return cmd.Run() == nil
}

// The rules cut what they name and nothing else, and are all gone after
// RemoveAll; a stale process's rules are swept.
func TestFirewallCutsAndCleansUp(t *testing.T) {
	if testing.Short() {
		t.Skip("needs iptables and root")
	}
	for _, tool := range []string{"bash", "timeout"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " not found")
		}
	}
	fw, err := NewFirewall()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	t.Cleanup(fw.RemoveAll)
	listen := func() (net.Listener, string) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		t.Cleanup(func() { l.Close() })
		return l, l.Addr().String()
	}
	_, raftB := listen()
	_, httpB := listen()
	_, raftA := listen()
	a := &Node{ID: "a", GID: NodeGID(1), RaftAddr: raftA, HTTPAddr: raftA}
	b := &Node{ID: "b", GID: NodeGID(2), RaftAddr: raftB, HTTPAddr: httpB}
	other := NodeGID(3)
	if !dialAs(t, a.GID, raftB) || !dialAs(t, b.GID, raftA) {
		t.Fatal("no connection before the cut")
	}
	if err := fw.Cut([]*Node{a}, []*Node{b}); err != nil {
		t.Fatal(err)
	}
	if dialAs(t, a.GID, raftB) || dialAs(t, a.GID, httpB) || dialAs(t, b.GID, raftA) {
		t.Fatal("a and b still reach each other after the cut")
	}
	if !dialAs(t, other, raftB) || !dialAs(t, 0, httpB) {
		t.Fatal("the cut stops processes it does not name")
	}
	fw.RemoveAll()
	if fw.Rules() != 0 || strings.Contains(iptablesS(t), Tag()) {
		t.Fatalf("rules left after RemoveAll:\n%s", iptablesS(t))
	}
	if !dialAs(t, a.GID, raftB) {
		t.Fatal("no connection after the heal")
	}

	// A rule tagged by a process that is gone is swept.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	tag := "bgdns-faults-" + strconv.Itoa(dead.Process.Pid)
	spec := []string{"-p", "tcp", "--dport", "1", "-m", "comment", "--comment", tag, "-j", "DROP"}
	if out, err := exec.Command(fw.bin, append([]string{"-w", "-I", "OUTPUT"}, spec...)...).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(fw.bin, append([]string{"-w", "-D", "OUTPUT"}, spec...)...).Run() })
	SweepStale(fw.bin)
	if strings.Contains(iptablesS(t), tag) {
		t.Fatalf("rule of a dead process not swept:\n%s", iptablesS(t))
	}
}

func iptablesS(t *testing.T) string {
	bin, _ := IptablesPath()
	out, err := exec.Command(bin, "-w", "-S", "OUTPUT").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
