package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// randomSecret is a token no file or log can hold by chance.
func randomSecret(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// procFile reads /proc/PID/name ("" when the process is gone).
func procFile(pid int, name string) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
	return string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
}

// A token given in the environment (BGDNS_API_TOKEN to the servers,
// BGDNS_TOKEN to the CLI) never shows: not in a node's log at debug level
// (joins, forwarded writes, wait=all, refused clients and a restart
// included), not in any process's command line, not in API answers, not
// in the CLI's output, and not in the nodes' data directories.
func TestSecuritySecretsStayHidden(t *testing.T) {
	token := randomSecret(t, "tok-")
	wrong := randomSecret(t, "bad-")
	c := StartCluster(t, 3, ClusterOptions{
		Hosts: secureHosts, TLS: true,
		Env:  []string{"BGDNS_API_TOKEN=" + token},
		Args: []string{"--log-level", "debug"},
	})
	f := c.Nodes[1] // usually a follower: its writes are forwarded
	withToken := append(f.CLIEnv(), "BGDNS_TOKEN="+token)
	var outputs []string
	cli := func(env []string, wantOK bool, args ...string) {
		t.Helper()
		r := RunCLIEnv(t, env, f.URL(), args...)
		if (r.Code == 0) != wantOK {
			t.Fatalf("want success %v: %s", wantOK, r)
		}
		outputs = append(outputs, r.Stdout, r.Stderr)
	}
	cli(withToken, true, "service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	cli(withToken, true, "deploy", svcName, "--version", "2.0", "--addr", greenV4[0])
	cli(withToken, true, "switch", svcName, "--reason", "secrets", "--wait")
	cli(withToken, true, "-o", "json", "cluster", "members")
	cli(withToken, true, "-o", "json", "status")
	cli(append(f.CLIEnv(), "BGDNS_TOKEN="+wrong), false, "service", "list")
	cli(f.CLIEnv(), false, "rollback", svcName)
	for _, path := range []string{"/v1/cluster", "/v1/services/" + svcName, "/v1/services/" + svcName + "/history"} {
		r, err := CallHeaders("GET", f.URL()+path, nil, map[string]string{"Authorization": "Bearer " + token})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != 200 {
			t.Errorf("%s with the token: %s", path, r)
		}
		outputs = append(outputs, string(r.Body), fmt.Sprint(r.Header))
	}

	// Every node's command line, seen by ps, carries no token, while its
	// environment does (the test passes it there).
	for _, n := range c.Nodes {
		pid := n.PID()
		if cmdline := procFile(pid, "cmdline"); cmdline == "" || strings.Contains(cmdline, token) {
			t.Errorf("%s: command line %q holds the token (or the process is gone)", n.ID, cmdline)
		}
		if !strings.Contains(procFile(pid, "environ"), "BGDNS_API_TOKEN="+token) {
			t.Errorf("%s: the token did not reach the process through its environment", n.ID)
		}
	}
	if ps, err := exec.CommandContext(context.Background(), "ps", "-eo", "pid,args").Output(); err != nil {
		t.Logf("ps: %v", err)
	} else if strings.Contains(string(ps), token) || strings.Contains(string(ps), wrong) {
		t.Errorf("ps shows a token:\n%s", grepLines(string(ps), token, wrong))
	}

	// A restart logs the configuration again.
	n3 := c.Nodes[2]
	n3.Stop()
	n3.Restart()
	c.EveryNode(20*time.Second, "green everywhere", func(n *Node) error { return checkColour(n, greenV4) })

	for _, out := range outputs {
		if strings.Contains(out, token) || strings.Contains(out, wrong) {
			t.Errorf("a client's output or an API answer holds a token:\n%s", grepLines(out, token, wrong))
		}
	}
	for _, n := range c.Nodes {
		log := n.Log()
		if !strings.Contains(log, "BGDNS_API_TOKEN=<redacted>") {
			t.Errorf("%s: the harness's run line does not show the token as passed (and hidden)", n.ID)
		}
		if strings.Contains(log, token) || strings.Contains(log, wrong) {
			t.Errorf("%s: the log holds a token:\n%s", n.ID, grepLines(log, token, wrong))
		}
		_ = filepath.WalkDir(n.DataDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err == nil && (bytes.Contains(b, []byte(token)) || bytes.Contains(b, []byte(wrong))) {
				t.Errorf("%s: %s holds a token", n.ID, path)
			}
			return nil
		})
	}
}

// grepLines returns the lines of s holding any of subs.
func grepLines(s string, subs ...string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		for _, sub := range subs {
			if strings.Contains(line, sub) {
				out = append(out, line)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
