package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bgdns/bgdns/internal/testports"
)

// TestDevCluster runs `bgdns dev` (what `make run` starts) on free ports,
// then runs every line it prints under "Try" — the dig lines with dig, the
// bgdns lines with the CLI — and checks they do what they say. Ctrl-C
// (SIGINT) stops it cleanly and removes its temporary data.
func TestDevCluster(t *testing.T) {
	requireE2E(t, "dig")
	const nodes = 3
	dnsBase := freeRange(t, "127.0.0.1", nodes, true)
	httpBase := freeRange(t, "127.0.0.1", nodes, false)
	raftBase := freeRange(t, "127.0.0.1", nodes, false)

	logPath := filepath.Join(t.TempDir(), "dev.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binPath, "dev", "--nodes", strconv.Itoa(nodes),
		"--dns-port", strconv.Itoa(dnsBase), "--http-port", strconv.Itoa(httpBase),
		"--raft-port", strconv.Itoa(raftBase))
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	stopped := false
	var dataDir []string
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-done
			if dataDir != nil { // killed: it could not remove its data itself
				os.RemoveAll(dataDir[1])
			}
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("--- bgdns dev output:\n%s", b)
		}
	})

	var out string
	eventually(t, 60*time.Second, "bgdns dev prints what to try", func() error {
		select {
		case err := <-done:
			stopped = true
			return permanent{fmt.Errorf("bgdns dev exited: %v", err)}
		default:
		}
		b, _ := os.ReadFile(logPath)
		out = string(b)
		if !strings.Contains(out, "Ctrl-C") {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	if stopped {
		t.Fatal("bgdns dev exited early")
	}

	dataDir = regexp.MustCompile(`data in (\S+)`).FindStringSubmatch(out)
	if dataDir == nil {
		t.Fatalf("bgdns dev does not say where its data is:\n%s", out)
	}

	// Every node serves the demo service, blue, before anything is typed.
	for i := 0; i < nodes; i++ {
		addr := fmt.Sprintf("127.0.0.1:%d", dnsBase+i)
		wantAddrs(t, "demo service on node "+addr, Dig(t, addr, svcName, "A"), "A", 5, blueV4...)
	}

	// Run what it says to try, in order.
	var tried int
	var env []string // what the printed export lines set
	_, try, _ := strings.Cut(out, "Try")
	for _, line := range strings.Split(try, "\n") {
		words := shellWords(strings.TrimSpace(line))
		if len(words) == 0 {
			continue
		}
		switch words[0] {
		case "export":
			env = append(env, words[1:]...)
		case "dig":
			runDevDig(t, words[1:])
			tried++
		case "bin/bgdns", "bgdns":
			if r := RunCLIEnv(t, env, "", words[1:]...); r.Code != 0 {
				t.Fatalf("%s", r)
			}
			tried++
		case "curl":
			runDevCurl(t, env, words[1:])
			tried++
		}
	}
	// The cluster is not open: without the token the same call is refused.
	if r := RunCLIEnv(t, slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, "BGDNS_TOKEN=")
	}), "", "--server", fmt.Sprintf("https://127.0.0.1:%d", httpBase), "service", "list"); r.Code == 0 {
		t.Fatalf("bgdns service list without a token succeeded:\n%s", r)
	}
	if tried < 5 {
		t.Fatalf("bgdns dev printed %d commands to try, want several:\n%s", tried, out)
	}

	// Ctrl-C: a clean exit, temporary data removed.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Fatalf("bgdns dev after Ctrl-C: %v", err)
		}
	case <-time.After(30 * time.Second * slow):
		t.Fatal("bgdns dev did not stop within 30s of Ctrl-C")
	}
	if _, err := os.Stat(dataDir[1]); !os.IsNotExist(err) {
		t.Errorf("bgdns dev left its data in %s (stat: %v)", dataDir[1], err)
	}
}

// runDevCurl runs one printed curl line (with $VARS from the export
// lines expanded) and checks that it lists the demo service.
func runDevCurl(t *testing.T, env []string, args []string) {
	t.Helper()
	requireE2E(t, "curl")
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	for i, a := range args {
		args[i] = os.Expand(a, func(k string) string { return vars[k] })
	}
	b, err := exec.Command("curl", append([]string{"-sS", "--fail", "--max-time", "10"}, args...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(b), strings.TrimSuffix(svcName, ".")) {
		t.Errorf("curl %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

// runDevDig runs one printed dig line and checks that it gets an
// authoritative NOERROR answer.
func runDevDig(t *testing.T, args []string) {
	t.Helper()
	var server, port, name, qtype string
	var opts []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "@"):
			server = a[1:]
		case a == "-p" && i+1 < len(args):
			port = args[i+1]
			i++
		case strings.HasPrefix(a, "+"):
			if a != "+short" { // the harness reads the full output
				opts = append(opts, a)
			}
		case name == "":
			name = a
		default:
			qtype = a
		}
	}
	if server == "" || port == "" || name == "" || qtype == "" {
		t.Fatalf("unreadable dig line: dig %s", strings.Join(args, " "))
	}
	a := Dig(t, net.JoinHostPort(server, port), name, qtype, opts...)
	if a.Status != "NOERROR" || !a.HasFlag("aa") || len(a.Answer) == 0 {
		t.Errorf("dig %s: want an authoritative answer\n%s", strings.Join(args, " "), a.Raw)
	}
}

// freeRange returns a port p such that p .. p+count-1 are free on host (for
// TCP, and for UDP too when udp is set), and claims them.
func freeRange(t *testing.T, host string, count int, udp bool) int {
	t.Helper()
	base, err := testports.FreeRange(host, count, udp)
	if err != nil {
		t.Fatal(err)
	}
	return base
}

// shellWords splits a printed command line into words, honouring double
// and single quotes (enough for the lines bgdns prints).
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
