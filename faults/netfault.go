package faults

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Network faults are iptables rules in the OUTPUT chain, restricted to the
// suite's own processes and ports: every node runs with its own group id
// (the --gid-owner match names the sender) and every rule also names the
// receiving node's ports, which the kernel handed to this run. Every rule
// carries the comment "bgdns-faults-<pid>" and is deleted one by one, by
// its exact specification: at each heal, at the end of a run, in the
// test's cleanup (which also runs when the test panics or fails) and when
// the test process gets SIGINT or SIGTERM. A later run removes the
// rules of a suite process that no longer exists.
//
// On loopback every packet crosses OUTPUT, and the owner match sees the
// sending socket there: a rule "packets of node a's processes to node b's
// raft and API ports" stops every connection a opens to b. Cutting a and
// b apart drops both directions of opening (a to b's ports, b to a's
// ports): whatever one of them asks never arrives, so the other has
// nothing to answer, and TCP acknowledgements of the initiator are
// dropped too, so no data crosses on a connection that was open before.

// Tag is the comment every rule of this process carries.
func Tag() string { return "bgdns-faults-" + strconv.Itoa(os.Getpid()) }

// NodeGID is the group id node number i (1-based) of this process runs
// with: distinct per process and per node, outside the usual ranges.
func NodeGID(i int) uint32 {
	return uint32(3_000_000 + (os.Getpid()%100_000)*16 + i)
}

// Firewall installs and removes this run's rules.
type Firewall struct {
	bin  string
	mu   sync.Mutex
	live [][]string // rule specifications in place, without -I/-D
}

// IptablesPath finds iptables (also in /usr/sbin and /sbin, which a
// non-login PATH may miss).
func IptablesPath() (string, error) {
	if p, err := exec.LookPath("iptables"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/iptables", "/sbin/iptables"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("iptables not found (scripts/install-test-deps.sh installs it)")
}

// NewFirewall checks that iptables works here (root, a kernel with the
// owner, multiport and statistic matches) by adding and deleting one
// harmless tagged rule.
func NewFirewall() (*Firewall, error) {
	bin, err := IptablesPath()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("network faults need root (iptables, per-node group ids)")
	}
	f := &Firewall{bin: bin}
	probe := []string{"-p", "tcp", "-m", "owner", "--gid-owner", strconv.Itoa(int(NodeGID(15))),
		"-m", "multiport", "--dports", "1,2", "-m", "statistic", "--mode", "random", "--probability", "0.5"}
	if err := f.Add(probe...); err != nil {
		return nil, err
	}
	f.RemoveAll()
	SweepStale(bin)
	return f, nil
}

func (f *Firewall) spec(rule []string) []string {
	return append(append([]string(nil), rule...), "-m", "comment", "--comment", Tag(), "-j", "DROP")
}

// Add inserts one DROP rule (match arguments only; the tag and the target
// are added).
func (f *Firewall) Add(rule ...string) error {
	s := f.spec(rule)
	f.mu.Lock()
	defer f.mu.Unlock()
	if out, err := exec.Command(f.bin, append([]string{"-w", "-I", "OUTPUT"}, s...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("iptables -I OUTPUT %s: %v: %s", strings.Join(s, " "), err, out)
	}
	f.live = append(f.live, s)
	return nil
}

// RemoveAll deletes every rule this Firewall added, then any rule left
// with this process's tag.
func (f *Firewall) RemoveAll() {
	if f == nil {
		return
	}
	f.mu.Lock()
	live := f.live
	f.live = nil
	f.mu.Unlock()
	for _, s := range live {
		_ = exec.Command(f.bin, append([]string{"-w", "-D", "OUTPUT"}, s...)...).Run()
	}
	sweep(f.bin, func(tag string) bool { return tag == Tag() })
}

// Rules is how many rules are in place.
func (f *Firewall) Rules() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.live)
}

// SweepStale deletes the tagged rules of suite processes that no longer
// exist (a run killed before its cleanup).
func SweepStale(bin string) {
	sweep(bin, func(tag string) bool {
		pid, err := strconv.Atoi(strings.TrimPrefix(tag, "bgdns-faults-"))
		if err != nil || pid <= 0 {
			return false
		}
		return pid != os.Getpid() && syscall.Kill(pid, 0) == syscall.ESRCH
	})
}

// sweep deletes, one by one, the OUTPUT rules whose bgdns-faults-* tag
// match accepts.
func sweep(bin string, match func(tag string) bool) {
	out, err := exec.Command(bin, "-w", "-S", "OUTPUT").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		args := strings.Fields(line)
		if len(args) < 2 || args[0] != "-A" || args[1] != "OUTPUT" {
			continue
		}
		tag := ""
		for i := range args {
			if args[i] == "--comment" && i+1 < len(args) {
				tag = strings.Trim(args[i+1], `"`)
			}
		}
		if !strings.HasPrefix(tag, "bgdns-faults-") || !match(tag) {
			continue
		}
		for i := range args {
			args[i] = strings.Trim(args[i], `"`)
		}
		args[0] = "-D"
		_ = exec.Command(bin, append([]string{"-w"}, args...)...).Run()
	}
}

// Cut drops the raft and API traffic between every node of a and every
// node of b, both ways.
func (f *Firewall) Cut(a, b []*Node) error {
	for _, x := range a {
		for _, y := range b {
			if err := f.oneWay(x, y); err != nil {
				return err
			}
			if err := f.oneWay(y, x); err != nil {
				return err
			}
		}
	}
	return nil
}

// oneWay drops what x's processes send to y's raft and API ports.
func (f *Firewall) oneWay(x, y *Node) error {
	return f.Add("-p", "tcp", "-m", "owner", "--gid-owner", strconv.Itoa(int(x.GID)),
		"-m", "multiport", "--dports", port(y.RaftAddr)+","+port(y.HTTPAddr))
}

// CutChannel is Cut for one channel only: the raft traffic (raft set) or
// the API traffic between the nodes.
func (f *Firewall) CutChannel(a, b []*Node, raft bool) error {
	pick := func(n *Node) string {
		if raft {
			return port(n.RaftAddr)
		}
		return port(n.HTTPAddr)
	}
	for _, x := range a {
		for _, y := range b {
			for _, d := range [][2]*Node{{x, y}, {y, x}} {
				if err := f.Add("-p", "tcp", "-m", "owner", "--gid-owner", strconv.Itoa(int(d[0].GID)),
					"--dport", pick(d[1])); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Loss drops a share p of the packets of n's raft traffic: to and from
// its raft port, and what it sends to the other nodes' raft ports.
func (f *Firewall) Loss(n *Node, others []*Node, p float64) error {
	prob := strconv.FormatFloat(p, 'f', 2, 64)
	stat := []string{"-m", "statistic", "--mode", "random", "--probability", prob}
	if err := f.Add(append([]string{"-p", "tcp", "--dport", port(n.RaftAddr)}, stat...)...); err != nil {
		return err
	}
	if err := f.Add(append([]string{"-p", "tcp", "--sport", port(n.RaftAddr)}, stat...)...); err != nil {
		return err
	}
	var ports []string
	for _, o := range others {
		if o != n {
			ports = append(ports, port(o.RaftAddr))
		}
	}
	if len(ports) == 0 {
		return nil
	}
	return f.Add(append([]string{"-p", "tcp", "-m", "owner", "--gid-owner", strconv.Itoa(int(n.GID)),
		"-m", "multiport", "--dports", strings.Join(ports, ",")}, stat...)...)
}

func port(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	return addr[i+1:]
}
