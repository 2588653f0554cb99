package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/pki"
	"github.com/spf13/cobra"
)

const (
	demoZone    = "bg.example.test."
	demoService = "api.bg.example.test."
)

type devOptions struct {
	nodes                       int
	dnsPort, httpPort, raftPort int
	dataDir                     string
	keep                        bool
	logLevel                    string
}

func newDevCmd() *cobra.Command {
	var o devOptions
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a local cluster on loopback with a demo zone and service",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := runDev(ctx, o, cmd.OutOrStdout()); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.nodes, "nodes", 3, "number of nodes (1, 3 or 5)")
	f.IntVar(&o.dnsPort, "dns-port", 5353, "DNS port of the first node; the others follow")
	f.IntVar(&o.httpPort, "http-port", 8053, "API port of the first node; the others follow")
	f.IntVar(&o.raftPort, "raft-port", 7053, "Raft port of the first node; the others follow")
	f.StringVar(&o.dataDir, "data-dir", "", "where to keep the nodes' data (default: a new temporary directory)")
	f.BoolVar(&o.keep, "keep", false, "keep the temporary data directory on exit")
	f.StringVar(&o.logLevel, "log-level", "warn", "debug, info, warn or error")
	return cmd
}

func runDev(ctx context.Context, o devOptions, out io.Writer) error {
	if o.nodes != 1 && o.nodes != 3 && o.nodes != 5 {
		return errors.New("--nodes must be 1, 3 or 5")
	}
	dir := o.dataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "bgdns-dev-")
		if err != nil {
			return err
		}
		dir = d
		if !o.keep {
			defer os.RemoveAll(dir)
		}
	}
	log := newLogger(o.logLevel)
	var nodes []*runningNode
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		for i := len(nodes) - 1; i >= 0; i-- {
			_ = nodes[i].Shutdown(sctx)
		}
	}()
	certs, err := devCertificates(dir, o.nodes)
	if err != nil {
		return err
	}
	first := fmt.Sprintf("https://127.0.0.1:%d", o.httpPort)
	var token string
	for i := 0; i < o.nodes; i++ {
		cfg := nodeConfig{
			NodeID:   fmt.Sprintf("n%d", i+1),
			DataDir:  filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
			DNSAddr:  fmt.Sprintf("127.0.0.1:%d", o.dnsPort+i),
			HTTPAddr: fmt.Sprintf("127.0.0.1:%d", o.httpPort+i),
			RaftAddr: fmt.Sprintf("127.0.0.1:%d", o.raftPort+i),
			MaxStale: 2 * time.Second, SnapshotThreshold: 8192,
			Security: securityConfig{TLS: certs[i]},
		}
		if i == 0 {
			cfg.Bootstrap = true
		} else {
			cfg.Join = first
			cfg.ACL.joinToken = token
		}
		rn, err := startNode(ctx, cfg, log)
		if err != nil {
			return err
		}
		nodes = append(nodes, rn)
		if i == 0 {
			// the others join through the first node: let it lead first
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := rn.node.WaitLeader(wctx)
			cancel()
			if err != nil {
				return fmt.Errorf("first node: %w", err)
			}
			if token, err = devToken(ctx, dir, nodes); err != nil {
				return fmt.Errorf("ACL bootstrap: %w", err)
			}
		}
	}
	if err := seedDemo(ctx, nodes); err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	printDevHelp(out, o, dir, certs[0].CA, token)
	<-ctx.Done()
	fmt.Fprintln(out, "\nstopping…")
	return nil
}

// seedDemo waits for every node to serve, then creates the demo zone (one
// NS per node) and the demo service, unless they exist from an earlier run.
func seedDemo(ctx context.Context, nodes []*runningNode) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	leader := nodes[0].node
	if err := leader.WaitLeader(ctx); err != nil {
		return err
	}
	if leader.State().Zone(demoZone) == nil {
		spec := &control.ZoneSpec{Glue: map[string][]netip.Addr{}}
		for i := range nodes {
			ns := fmt.Sprintf("ns%d.%s", i+1, demoZone)
			spec.NS = append(spec.NS, ns)
			spec.Glue[ns] = []netip.Addr{glueAddr(nodes[i].dns.Addr())}
		}
		if err := proposeDemo(ctx, nodes, control.Command{Op: control.OpZonePut, Name: demoZone, Zone: spec}); err != nil {
			return err
		}
	}
	if leader.State().Service(demoService) == nil {
		cmd := control.Command{Op: control.OpServicePut, Name: demoService, Service: &control.ServiceSpec{
			TTL:  5,
			Blue: &control.Pool{Version: "1.0", Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.11"), netip.MustParseAddr("10.0.0.12")}},
		}}
		if err := proposeDemo(ctx, nodes, cmd); err != nil {
			return err
		}
	}
	for {
		ready := true
		for _, n := range nodes {
			if n.node.Ready() != nil || n.node.State().Service(demoService) == nil {
				ready = false
			}
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nodes not ready: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// proposeDemo proposes on whichever node leads.
func proposeDemo(ctx context.Context, nodes []*runningNode, cmd control.Command) error {
	cmd.Actor = "dev"
	if cmd.RequestID == "" {
		// a retry after a leader change is then answered, not applied twice
		cmd.RequestID = fmt.Sprintf("dev-%s-%d", cmd.Op, time.Now().UnixNano())
	}
	for {
		for _, n := range nodes {
			if !n.node.IsLeader() {
				continue
			}
			res, err := n.node.Propose(ctx, cmd)
			if c := control.CodeOf(err); err != nil && (c == control.CodeNoLeader || c == control.CodeNotLeader) {
				continue // leadership moved while proposing: find the leader again
			}
			if err != nil {
				return err
			}
			if res.Err != nil {
				return res.Err
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func printDevHelp(out io.Writer, o devOptions, dir, ca, token string) {
	fmt.Fprintf(out, "bgdns dev: %d node(s) on loopback, zone %s, data in %s\n", o.nodes, demoZone, dir)
	fmt.Fprintf(out, "TLS and ACLs are on: the cluster's CA is %s and the management token below was made by ACL bootstrap.\n\n", ca)
	for i := 0; i < o.nodes; i++ {
		fmt.Fprintf(out, "  n%d  dns 127.0.0.1:%d  api https://127.0.0.1:%d  raft 127.0.0.1:%d (mutual TLS)\n",
			i+1, o.dnsPort+i, o.httpPort+i, o.raftPort+i)
	}
	svc := "api.bg.example.test"
	srv := fmt.Sprintf("--server https://127.0.0.1:%d", o.httpPort)
	fmt.Fprintf(out, "\nTry (in another terminal):\n\n")
	fmt.Fprintf(out, "  export BGDNS_CACERT=%s BGDNS_TOKEN=%s\n", ca, token)
	for i := 0; i < o.nodes; i++ {
		fmt.Fprintf(out, "  dig @127.0.0.1 -p %d %s A +short\n", o.dnsPort+i, svc)
	}
	fmt.Fprintf(out, "  bin/bgdns %s deploy %s --version 2.0 --addr 10.0.0.21 --addr 2001:db8::21\n", srv, svc)
	fmt.Fprintf(out, "  dig @127.0.0.1 -p %d preview.%s A +short\n", o.dnsPort, svc)
	fmt.Fprintf(out, "  bin/bgdns %s switch %s --reason \"2.0 passed tests\" --wait\n", srv, svc)
	fmt.Fprintf(out, "  dig @127.0.0.1 -p %d %s AAAA +short\n", o.dnsPort+o.nodes-1, svc)
	fmt.Fprintf(out, "  dig @127.0.0.1 -p %d _bgdns.%s TXT +short\n", o.dnsPort, svc)
	fmt.Fprintf(out, "  bin/bgdns %s rollback %s\n", srv, svc)
	fmt.Fprintf(out, "  bin/bgdns %s history %s\n", srv, svc)
	fmt.Fprintf(out, "  bin/bgdns %s cluster members\n", srv)
	fmt.Fprintf(out, "  bin/bgdns %s acl token create --name ci --role deploy --scope %s\n", srv, svc)
	fmt.Fprintf(out, "  curl --cacert %s -H \"Authorization: Bearer $BGDNS_TOKEN\" https://127.0.0.1:%d/v1/services\n", ca, o.httpPort)
	fmt.Fprintf(out, "\nCtrl-C stops the cluster.\n")
}

// devCertificates makes (or finds, in a kept data directory) the dev
// cluster's CA and one certificate per node under dir/tls.
func devCertificates(dir string, nodes int) ([]pki.Files, error) {
	tdir := filepath.Join(dir, "tls")
	ca := filepath.Join(tdir, pki.CAFile)
	if _, err := os.Stat(ca); err != nil {
		if err := pki.CreateCA(tdir, time.Now()); err != nil {
			return nil, err
		}
	}
	var out []pki.Files
	for i := 0; i < nodes; i++ {
		name := fmt.Sprintf("n%d", i+1)
		cert, key := pki.CertFiles(tdir, name)
		if _, err := os.Stat(cert); err != nil {
			if cert, key, err = pki.CreateCert(pki.CertRequest{CADir: tdir, Name: name}, time.Now()); err != nil {
				return nil, err
			}
		}
		out = append(out, pki.Files{Cert: cert, Key: key, CA: ca})
	}
	return out, nil
}

// devTokenFile keeps the dev cluster's management token beside its data,
// so that a kept data directory can be started again.
const devTokenFile = "dev-token"

// devToken bootstraps the ACL system of a new dev cluster and keeps the
// management token in the data directory, or reads it back when the
// cluster was bootstrapped in an earlier run.
func devToken(ctx context.Context, dir string, nodes []*runningNode) (string, error) {
	path := filepath.Join(dir, devTokenFile)
	if done, _ := nodes[0].node.State().ACLBootstrapped(); done {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("the cluster in %s was bootstrapped but its token is gone (%w)", dir, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	cmd, secret := aclBootstrapCommand("dev")
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := proposeDemo(pctx, nodes, cmd); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	return secret, nil
}
