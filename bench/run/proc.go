package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, which Linux fixes at 100 on every architecture
// this benchmark runs on.
const clockTicks = 100

// proc is one server child process.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// niceness is the scheduling priority given to servers and dnsperf, so
// that other work on the machine disturbs the measurement less.
var niceness = 0

// sysProcAttr puts a child in a session of its own: with scheduler
// autogroups on (the Debian default), a session is also the unit the CPU
// is shared between, and nice only counts inside it. prioritize then gives
// that group the nice level. The child dies with the harness.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
}

// prioritize sets the nice level of pid's autogroup (when autogroups are
// on; nice itself covers the other case).
func prioritize(pid int) {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/autogroup", pid), []byte(strconv.Itoa(niceness)), 0)
}

// pinned returns the command line that runs argv on cpu at niceness
// (chrt, nice and taskset all exec the program in place: the pid is the
// same). chrt puts the child back in the normal scheduling class: the
// harness itself runs in SCHED_IDLE (scripts/bench.sh), so that its own
// work, the switch storm's HTTP client above all, never delays dnsperf on
// the CPU they share.
func pinned(cpu int, argv ...string) []string {
	return append([]string{"chrt", "--other", "0", "nice", "-n", strconv.Itoa(niceness), "taskset", "-c", strconv.Itoa(cpu)}, argv...)
}

// startProc starts argv pinned to cpu, with output to logPath.
func startProc(name string, cpu int, logPath string, argv ...string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := pinned(cpu, argv...)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	prioritize(cmd.Process.Pid)
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// pid is the server's process id (taskset execs the server in place).
func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group and waits, then SIGKILL.
func (p *proc) stop(timeout time.Duration) error {
	if p.exited() {
		return nil
	}
	pg := -p.pid()
	_ = syscall.Kill(pg, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
	}
	_ = syscall.Kill(pg, syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("%s did not stop within %s; killed", p.name, timeout)
}

// tail returns the last lines of the process's log, for error messages.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// procStat is what we read of /proc/PID/stat.
type procStat struct {
	ppid  int
	ticks uint64 // utime + stime
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("malformed stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return procStat{}, errors.New("short stat")
	}
	ppid, _ := strconv.Atoi(f[1])
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return procStat{ppid: ppid, ticks: ut + st}, nil
}

// tree returns pid and all its descendants (NSD forks its servers).
func tree(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(n); err == nil {
			children[st.ppid] = append(children[st.ppid], n)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// cpuTime is the CPU time used so far by every thread of pid's tree,
// from /proc/PID/task/TID/schedstat (nanoseconds, exact). utime and stime
// in /proc/PID/stat are sampled at the timer tick, and a server that wakes
// for a few microseconds per packet on an otherwise idle CPU can dodge
// almost every tick; they are the fallback only.
func cpuTime(pid int) time.Duration {
	var total time.Duration
	for _, p := range tree(pid) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", p))
		if len(tasks) == 0 {
			if st, err := readStat(p); err == nil {
				total += time.Duration(st.ticks) * time.Second / clockTicks
			}
			continue
		}
		for _, t := range tasks {
			b, err := os.ReadFile(t)
			if err != nil {
				continue
			}
			if f := strings.Fields(string(b)); len(f) > 0 {
				ns, _ := strconv.ParseInt(f[0], 10, 64)
				total += time.Duration(ns)
			}
		}
	}
	return total
}

// rssBytes is the summed VmRSS of pid's tree.
func rssBytes(pid int) int64 {
	var total int64
	for _, p := range tree(pid) {
		f, err := os.Open(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				total += kb * 1024
			}
		}
		f.Close()
	}
	return total
}

// cpuBusy returns the busy and total ticks of one CPU from /proc/stat.
func cpuBusy(cpu int) (busy, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	prefix := fmt.Sprintf("cpu%d ", cpu)
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		for i, f := range strings.Fields(line)[1:] {
			v, _ := strconv.ParseUint(f, 10, 64)
			total += v
			if i != 3 && i != 4 { // idle, iowait
				busy += v
			}
		}
	}
	return busy, total
}

// repin moves every thread of pid's tree to cpu (Knot pins its workers).
func repin(ctx context.Context, pid, cpu int) error {
	for _, p := range tree(pid) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", p))
		for _, t := range tasks {
			out, err := exec.CommandContext(ctx, "taskset", "-p", "-c", strconv.Itoa(cpu), filepath.Base(t)).CombinedOutput()
			if err != nil {
				return fmt.Errorf("taskset %s: %v: %s", t, err, out)
			}
		}
	}
	return nil
}

// affinityOK reports whether every thread of pid's tree may run on cpu only.
func affinityOK(pid, cpu int) bool {
	want := fmt.Sprintf("%x", 1<<cpu)
	for _, p := range tree(pid) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", p))
		for _, t := range tasks {
			out, err := exec.Command("taskset", "-p", filepath.Base(t)).Output()
			if err != nil {
				continue // thread exited
			}
			f := strings.Fields(string(out))
			if len(f) == 0 || f[len(f)-1] != want {
				return false
			}
		}
	}
	return true
}
