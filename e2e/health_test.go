package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// backend is an HTTP health endpoint on one loopback address that the test
// turns up and down.
type backend struct {
	addr string
	srv  *http.Server
}

func (b *backend) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		t.Fatalf("backend %s: %v", b.addr, err)
	}
	b.srv = &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }),
		ReadHeaderTimeout: time.Second,
	}
	go func() { _ = b.srv.Serve(ln) }()
	t.Cleanup(b.down)
}

func (b *backend) down() {
	if b.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = b.srv.Shutdown(ctx)
		b.srv = nil
	}
}

// freeHealthPort finds a TCP port free on every host, so one health check
// port serves both colours.
func freeHealthPort(t *testing.T, hosts ...string) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		ln, err := net.Listen("tcp", hosts[0]+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ok := true
		for _, h := range hosts[1:] {
			l2, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(port)))
			if err != nil {
				ok = false
				break
			}
			l2.Close()
		}
		ln.Close()
		if ok {
			return port
		}
	}
	t.Fatal("no port free on every backend address")
	return 0
}

// The health-gated lifecycle against a real node and real HTTP
// backends: a switch to an unhealthy colour is refused, accepted once it is
// healthy, and rolled back by bgdns itself when it fails in the window.
func TestHealthGatedSwitchAndAutoRollback(t *testing.T) {
	const blueIP, greenIP = "127.0.0.111", "127.0.0.121"
	port := freeHealthPort(t, blueIP, greenIP)
	blue := &backend{addr: net.JoinHostPort(blueIP, strconv.Itoa(port))}
	green := &backend{addr: net.JoinHostPort(greenIP, strconv.Itoa(port))}
	blue.up(t)

	n := StartNode(t, NodeOptions{ID: "n1", Bootstrap: true})
	// The backends listen on loopback: the zone must allow it in pools.
	var z map[string]any
	Expect(t, http.StatusOK, "GET", n.URL()+"/v1/zones/"+testZone, nil).Decode(t, &z)
	z["allow_loopback"] = true
	Expect(t, http.StatusOK, "PUT", n.URL()+"/v1/zones/"+testZone, z)
	n.CLI("service", "put", svcName, "--ttl", "5", "--blue", blueIP, "--blue-version", "1.0",
		"--health-type", "http", "--health-port", strconv.Itoa(port), "--health-path", "/healthz",
		"--health-interval", "200ms", "--health-timeout", "100ms", "--health-rise", "1", "--health-fall", "2",
		"--min-healthy", "1", "--validation-window", "2m", "--auto-rollback")
	n.CLI("deploy", svcName, "--version", "2.0", "--addr", greenIP)

	// green has no backend: the switch is refused with the reason
	eventually(t, 10*time.Second, "green known down", func() error {
		r := RunCLI(t, n.URL(), "switch", svcName, "--reason", "try")
		if r.Code == 0 {
			return permanent{fmt.Errorf("switch to an unhealthy colour accepted:\n%s", r)}
		}
		if !strings.Contains(r.Stderr, "healthy") {
			return fmt.Errorf("refusal does not name health yet:\n%s", r)
		}
		return nil
	})
	if err := checkAddrs(n.Dig(svcName, "A"), "A", 5, blueIP); err != nil {
		t.Fatalf("a refused switch changed the answer: %v", err)
	}

	green.up(t)
	eventually(t, 10*time.Second, "switch accepted once green is healthy", func() error {
		if r := RunCLI(t, n.URL(), "switch", svcName, "--reason", "green healthy"); r.Code != 0 {
			return errors.New(r.String())
		}
		return nil
	})
	if err := checkAddrs(n.Dig(svcName, "A"), "A", 5, greenIP); err != nil {
		t.Fatalf("after the switch: %v", err)
	}

	// green fails inside the validation window: bgdns rolls back by itself
	green.down()
	eventually(t, 15*time.Second, "automatic rollback to blue", func() error {
		return checkAddrs(n.Dig(svcName, "A"), "A", 5, blueIP)
	})
	hist := n.CLI("history", svcName)
	first := strings.SplitN(strings.TrimSpace(hist), "\n", 3)
	if len(first) < 2 || !strings.Contains(first[1], "rollback") || !strings.Contains(first[1], "bgdns") {
		t.Fatalf("newest history record is not bgdns's rollback:\n%s", hist)
	}
	if c := strings.Count(hist, "rollback"); c != 1 {
		t.Fatalf("%d rollbacks in history, want 1:\n%s", c, hist)
	}
}
