package e2e

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The security tests run their clusters on loopback addresses of their
// own, so that the sources the nodes see are known.
var secureHosts = []string{"127.0.0.81", "127.0.0.82", "127.0.0.83"}

// curl runs curl with args and returns its stdout (the -w output) and
// exit code; the test skips when curl is not installed.
func curl(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not found on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second*slow)
	defer cancel()
	cmd := exec.CommandContext(ctx, "curl", append([]string{"-sS", "--max-time", "10"}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("curl: %v", err)
	}
	return stdout.String(), stderr.String(), code
}

// A TLS cluster serves its API over HTTPS only: curl and the CLI that
// trust the cluster CA work (reads, writes through a follower that
// forwards to the leader, wait=all reading every member), and a client
// that does not trust the CA, or speaks plain HTTP, gets nothing.
func TestSecurityHTTPS(t *testing.T) {
	requireE2E(t, "dig")
	c := StartCluster(t, 3, ClusterOptions{Hosts: secureHosts, TLS: true})
	f := c.Followers()[0]
	caFile := c.CA.CertFile()

	// The CLI through a follower: its writes are forwarded to the leader
	// and its wait=all reads every member, all over HTTPS.
	withCA := []string{"--ca-cert", caFile}
	cli := func(args ...string) string {
		t.Helper()
		r := RunCLI(t, f.URL(), append(withCA, args...)...)
		if r.Code != 0 {
			t.Fatalf("%s", r)
		}
		return r.Stdout
	}
	cli("service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	cli("deploy", svcName, "--version", "2.0", "--addr", greenV4[0])
	var sw waitJSON
	if err := jsonUnmarshal(cli("-o", "json", "switch", svcName, "--reason", "https", "--wait"), &sw); err != nil {
		t.Fatal(err)
	}
	if sw.Wait == nil || !sw.Wait.Complete || len(sw.Wait.Nodes) != 3 {
		t.Fatalf("switch --wait over HTTPS did not complete on all three: %+v", sw)
	}
	c.EveryNode(10*time.Second, "green everywhere", func(n *Node) error { return checkColour(n, greenV4) })
	// (The leader may change on a loaded machine: ask until status and the
	// cluster agree.)
	eventually(t, 20*time.Second, "bgdns status names the leader", func() error {
		out := cli("status")
		if l := c.Leader().ID; !strings.Contains(out, l) {
			return fmt.Errorf("status does not name the leader %s:\n%s", l, out)
		}
		return nil
	})
	var s ServiceJSON
	if err := jsonUnmarshal(cli("-o", "json", "service", "get", svcName), &s); err != nil {
		t.Fatal(err)
	}
	if s.Active != "green" {
		t.Errorf("service get over HTTPS: active %q, want green", s.Active)
	}
	// BGDNS_CACERT does the same as --ca-cert.
	if r := RunCLIEnv(t, []string{"BGDNS_CACERT=" + caFile}, f.URL(), "service", "get", svcName); r.Code != 0 {
		t.Errorf("BGDNS_CACERT not used: %s", r)
	}

	// curl with the CA.
	for _, n := range c.Nodes {
		out, errOut, code := curl(t, "--cacert", caFile, "-o", "/dev/null", "-w", "%{http_code}", n.URL()+"/readyz")
		if code != 0 || out != "200" {
			t.Errorf("curl --cacert %s/readyz: exit %d, status %q, %s", n.URL(), code, out, errOut)
		}
	}
	out, errOut, code := curl(t, "--cacert", caFile, f.URL()+"/v1/services/"+svcName)
	if code != 0 || !strings.Contains(out, `"green"`) {
		t.Errorf("curl --cacert GET the service: exit %d: %s %s", code, out, errOut)
	}

	// curl without the CA: certificate not trusted (exit 60).
	_, errOut, code = curl(t, "-o", "/dev/null", f.URL()+"/readyz")
	if code != 60 {
		t.Errorf("curl without --cacert: exit %d, want 60 (peer certificate cannot be authenticated): %s", code, errOut)
	}

	// Plain HTTP to the HTTPS port: never a 2xx.
	plain := "http://" + f.HTTPAddr
	for _, path := range []string{"/readyz", "/v1/services/" + svcName, "/v1/cluster"} {
		out, errOut, code := curl(t, "-o", "/dev/null", "-w", "%{http_code}", plain+path)
		if strings.HasPrefix(out, "2") {
			t.Errorf("plain http %s: status %s (exit %d %s), want no 2xx", path, out, code, errOut)
		}
	}
	if r, err := CallE("GET", plain+"/v1/services/"+svcName, nil); err == nil && r.Status/100 == 2 {
		t.Errorf("plain HTTP to a TLS node answered %s", r)
	}
	r := RunCLI(t, plain, "service", "get", svcName)
	if r.Code == 0 {
		t.Errorf("the CLI over plain http to a TLS node succeeded: %s", r)
	}
	t.Logf("CLI over plain http: exit %d: %s", r.Code, strings.TrimSpace(r.Stderr))

	// The CLI without --ca-cert, or with another CA, refuses the server.
	other := NewTestCA(t)
	for _, extra := range [][]string{nil, {"--ca-cert", other.CertFile()}} {
		r := RunCLI(t, f.URL(), append(extra, "service", "get", svcName)...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "certificate") {
			t.Errorf("CLI %v against a TLS node: want a failure naming the certificate:\n%s", extra, r)
		}
		t.Logf("CLI %v: exit %d: %s", extra, r.Code, strings.TrimSpace(r.Stderr))
	}
}

// A plaintext node refuses to listen on a non-loopback address unless
// --insecure is given, and then warns at every start; a TLS node needs
// no --insecure there.
func TestSecurityPlaintextOffLoopback(t *testing.T) {
	requireE2E(t, "dig")
	for _, flag := range []string{"http-addr", "raft-addr"} {
		t.Run("refused "+flag, func(t *testing.T) {
			n := NewNode(t, NodeOptions{Bootstrap: true})
			addr := n.HTTPAddr
			if flag == "raft-addr" {
				addr = n.RaftAddr
			}
			_, port, _ := net.SplitHostPort(addr)
			wild := "0.0.0.0:" + port
			n.Opts.Args = []string{"--" + flag, wild}
			n.Start()
			eventually(t, 20*time.Second, "serve exits", func() error {
				if n.Running() {
					return fmt.Errorf("still running")
				}
				return nil
			})
			if n.ExitErr() == nil {
				t.Fatalf("serve on %s without TLS exited 0", wild)
			}
			want := "refusing to listen on --" + flag + " " + wild + " without TLS"
			if log := n.Log(); !strings.Contains(log, want) || !strings.Contains(log, "--insecure") {
				t.Fatalf("the refusal does not say %q and name --insecure:\n%s", want, n.LogTail(20))
			}
		})
	}

	t.Run("insecure warns at every start", func(t *testing.T) {
		n := NewNode(t, NodeOptions{Bootstrap: true, HTTPAll: true, Args: []string{"--insecure"}})
		n.Start()
		n.WaitReady()
		n.Stop()
		n.Restart()
		if got := strings.Count(n.Log(), "INSECURE"); got != 2 {
			t.Fatalf("%d INSECURE warnings over two starts, want 2:\n%s", got, n.LogTail(40))
		}
	})

	t.Run("every interface needs an advertised address", func(t *testing.T) {
		n := NewNode(t, NodeOptions{Bootstrap: true, TLS: NewTestCA(t)})
		_, port, _ := net.SplitHostPort(n.HTTPAddr)
		n.Opts.Args = []string{"--http-addr", "0.0.0.0:" + port}
		n.Start()
		eventually(t, 20*time.Second, "serve exits", func() error {
			if n.Running() {
				return fmt.Errorf("still running")
			}
			return nil
		})
		if n.ExitErr() == nil || !strings.Contains(n.Log(), "give --http-advertise") {
			t.Fatalf("serve on 0.0.0.0 without --http-advertise: exit %v\n%s", n.ExitErr(), n.LogTail(20))
		}
	})

	t.Run("TLS needs no insecure", func(t *testing.T) {
		n := NewNode(t, NodeOptions{Bootstrap: true, TLS: NewTestCA(t), HTTPAll: true})
		n.Start()
		n.WaitReady()
		if strings.Contains(n.Log(), "INSECURE") {
			t.Fatalf("a TLS node warned about plaintext:\n%s", n.LogTail(20))
		}
		// A clean start of a well-configured node warns about nothing
		// but raft's first election (raft once warned at every start
		// that pre-vote was off).
		for _, line := range strings.Split(n.Log(), "\n") {
			if strings.Contains(line, "level=WARN") && !strings.Contains(line, "heartbeat timeout reached, starting election") {
				t.Errorf("a clean TLS start warned: %s", line)
			}
		}
	})
}
