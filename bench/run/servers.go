package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// server is one nameserver under test.
type server struct {
	name    string
	port    int // DNS port on 127.0.0.1
	proc    *proc
	httpURL string // bgdns only
}

// freePort returns a port free for both UDP and TCP on 127.0.0.1.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port")
}

// startNSD writes an NSD config for zoneFile into dir and starts nsd.
func startNSD(dir, zone, zoneFile string, cpu int) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`server:
    ip-address: 127.0.0.1@%[2]d
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "%[1]s"
    database: ""
    zonelistfile: "%[1]s/zone.list"
    xfrdfile: "%[1]s/xfrd.state"
    xfrdir: "%[1]s"
    pidfile: "%[1]s/nsd.pid"
    logfile: "%[1]s/nsd.log"
    verbosity: 1
    rrl-ratelimit: 0
    hide-version: yes
    tcp-count: 10
remote-control:
    control-enable: no
zone:
    name: %[3]s
    zonefile: "%[4]s"
`, dir, port, zone, zoneFile)
	path := filepath.Join(dir, "nsd.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	p, err := startProc("nsd", cpu, filepath.Join(dir, "stdout.log"), "nsd", "-d", "-c", path)
	if err != nil {
		return nil, err
	}
	return &server{name: "nsd", port: port, proc: p}, nil
}

// startKnot writes a Knot config for zoneFile into dir and starts knotd
// with one UDP, one TCP and one background worker; the caller re-pins it
// once it runs, because Knot sets its UDP workers' affinity itself.
func startKnot(dir, zone, zoneFile string, cpu int) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`server:
    rundir: "%[1]s"
    listen: 127.0.0.1@%[2]d
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    pidfile: "%[1]s/knot.pid"
control:
    listen: "%[1]s/knot.sock"
database:
    storage: "%[1]s"
log:
  - target: stderr
    any: info
template:
  - id: default
    storage: "%[1]s"
    semantic-checks: off
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: %[3]s
    file: "%[4]s"
`, dir, port, zone, zoneFile)
	path := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	p, err := startProc("knot", cpu, filepath.Join(dir, "stdout.log"), "knotd", "-c", path)
	if err != nil {
		return nil, err
	}
	return &server{name: "knot", port: port, proc: p}, nil
}

// bgdnsPorts are one bgdns node's addresses.
type bgdnsPorts struct{ dns, http, raft int }

func newBgdnsPorts() (bgdnsPorts, error) {
	var p bgdnsPorts
	var err error
	for _, v := range []*int{&p.dns, &p.http, &p.raft} {
		if *v, err = freePort(); err != nil {
			return p, err
		}
	}
	return p, nil
}

// startBgdns starts one bootstrapped bgdns node with data in dataDir.
func startBgdns(bin, dataDir, logPath, zone string, ports bgdnsPorts, cpu int) (*server, error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	p, err := startProc("bgdns", cpu, logPath, bin, "serve",
		"--node-id", "n1", "--data-dir", dataDir, "--bootstrap", "--zone", zone,
		"--dns-addr", fmt.Sprintf("127.0.0.1:%d", ports.dns),
		"--http-addr", fmt.Sprintf("127.0.0.1:%d", ports.http),
		"--raft-addr", fmt.Sprintf("127.0.0.1:%d", ports.raft),
		// dnsperf asks from one address: no rate limiting, as for NSD
		// (rrl-ratelimit: 0), so that the benchmark measures the server.
		"--rrl-rate", "0")
	if err != nil {
		return nil, err
	}
	return &server{name: "bgdns", port: ports.dns, proc: p,
		httpURL: fmt.Sprintf("http://127.0.0.1:%d", ports.http)}, nil
}

// stopAll stops every server that was started.
func stopAll(servers []*server) {
	for _, s := range servers {
		if s != nil && s.proc != nil {
			if err := s.proc.stop(10 * time.Second); err != nil {
				logf("%v", err)
			}
		}
	}
}

// waitFor polls cond every 10 ms until it is true or ctx ends.
func waitFor(ctx context.Context, what string, cond func() bool) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}
