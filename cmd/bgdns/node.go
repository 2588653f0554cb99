package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/cluster"
	"github.com/bgdns/bgdns/cluster/prober"
	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/dnsserver"
	"github.com/bgdns/bgdns/metrics"
	"github.com/bgdns/bgdns/peer"
)

var _ api.Backend = (*cluster.Node)(nil)
var _ dnsserver.Source = (*cluster.Node)(nil)

// nodeConfig is everything one bgdns node needs, from flags or dev.
type nodeConfig struct {
	NodeID, DataDir   string
	DNSAddr, HTTPAddr string
	RaftAddr          string
	HTTPAdvertise     string // base URL peers use; default http://<http-addr>
	Bootstrap         bool
	Join              string
	Zones             []string
	MaxStale          time.Duration
	StalePolicy       string
	APIToken          string
	SnapshotThreshold uint64
	DNS               dnsserver.Config // Addr and NodeID are filled in
	Security          securityConfig
	ACL               aclFlags
	Metrics           metricsConfig // serve_metrics.go
	Edge              edgeFlags
}

// runningNode is a started node; Shutdown stops it in order.
type runningNode struct {
	cfg   nodeConfig
	log   *slog.Logger
	node  *cluster.Node
	dns   *dnsserver.Server
	http  *http.Server
	peers *peer.Client
	// releaseProcs gives back the processors reserved for the DNS
	// readers.
	releaseProcs func()
	metricsSrv   *http.Server // the plain metrics listener, or nil
	stop         context.CancelFunc
	done         chan struct{}
}

func startNode(ctx context.Context, cfg nodeConfig, log *slog.Logger) (*runningNode, error) {
	if cfg.NodeID == "" || cfg.DataDir == "" {
		return nil, errors.New("--node-id and --data-dir are required")
	}
	if cfg.Bootstrap && cfg.Join != "" {
		return nil, errors.New("--bootstrap and --join exclude each other")
	}
	if err := cfg.Edge.check(cfg.Bootstrap); err != nil {
		return nil, err
	}
	log = log.With("node", cfg.NodeID)
	if err := cfg.Metrics.check(cfg.Security.Insecure, log); err != nil {
		return nil, err
	}
	mx := metrics.New()
	bundle, err := cfg.Security.loadTLS(log, map[string]string{"http-addr": cfg.HTTPAddr, "raft-addr": cfg.RaftAddr})
	if err != nil {
		return nil, err
	}
	advertise := cfg.HTTPAdvertise
	if advertise == "" && !hasHost(cfg.HTTPAddr) {
		return nil, fmt.Errorf("--http-addr %s listens on every interface: give --http-advertise, the URL other nodes reach this one at", cfg.HTTPAddr)
	}
	switch {
	case advertise == "" && bundle != nil:
		advertise = "https://" + cfg.HTTPAddr
	case advertise == "":
		advertise = "http://" + cfg.HTTPAddr
	case bundle != nil && !strings.HasPrefix(advertise, "https://"):
		return nil, errTLSAndScheme
	}
	var peerTLS *tls.Config
	if bundle != nil {
		peerTLS = bundle.PeerClient()
	}
	aclOn := cfg.ACL.enabled(bundle != nil)
	if aclOn && bundle == nil && cfg.ACL.clusterToken(cfg.APIToken) == "" {
		return nil, errors.New("--acl without TLS needs --api-token or --join-token: without a member certificate, " +
			"the nodes' calls to each other (status, wait=all, join) need a token")
	}
	rn := &runningNode{cfg: cfg, log: log, done: make(chan struct{}), peers: peer.New(peerTLS, cfg.ACL.clusterToken(cfg.APIToken))}

	dcfg := cfg.DNS
	dcfg.Addr, dcfg.NodeID, dcfg.Logger = cfg.DNSAddr, cfg.NodeID, log.With("component", "dns")
	dcfg.MetricsServices = cfg.Metrics.Services
	// The FSM goroutine calls OnChange as soon as Raft replays the log,
	// before the DNS server exists: publish the server atomically.
	var dnsSrv atomic.Pointer[dnsserver.Server]
	node, err := cluster.Open(cluster.Config{
		NodeID: cfg.NodeID, DataDir: cfg.DataDir, RaftAddr: cfg.RaftAddr,
		HTTPAddr: advertise, DNSAddr: cfg.DNSAddr, NSName: cfg.Edge.nsName, Bootstrap: cfg.Bootstrap, APIToken: cfg.APIToken,
		TLS: bundle, MaxRaftConns: cfg.Security.MaxRaftConns, Peers: rn.peers,
		MaxStale: cfg.MaxStale, StalePolicy: cfg.StalePolicy, SnapshotThreshold: cfg.SnapshotThreshold,
		Logger: log.With("component", "raft"),
		OnChange: func(*control.State) {
			if s := dnsSrv.Load(); s != nil {
				s.StateChanged()
			}
		},
		OnSwitch: mx.ObserveSwitch,
	})
	if err != nil {
		return nil, fmt.Errorf("open cluster node: %w", err)
	}
	rn.node = node
	dcfg.ShouldNotify = node.IsLeader
	rn.releaseProcs = reserveDNSProcs(&dcfg)
	srv := dnsserver.New(dcfg, node)
	dnsSrv.Store(srv)
	if err := srv.Start(); err != nil {
		rn.releaseProcs()
		_ = node.Shutdown(context.Background())
		return nil, fmt.Errorf("dns: %w", err)
	}
	rn.dns = srv
	mx.Attach(node, srv)

	// A new cluster's zones exist before its API answers, so a client that
	// waits for the API can create services at once. A node restarted into
	// an existing cluster may wait for peers: it keeps trying in background.
	zonesPending := cfg.Bootstrap && len(cfg.Zones) > 0
	if zonesPending {
		zctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := rn.ensureZones(zctx); err != nil {
			log.Warn("bootstrap zones not created yet; retrying in the background", "err", err)
		} else {
			zonesPending = false
		}
		cancel()
	}

	ln, err := listenAPI(cfg.HTTPAddr, cfg.Security.MaxHTTPConns, bundle, log)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		rn.releaseProcs()
		_ = node.Shutdown(context.Background())
		return nil, fmt.Errorf("http: %w", err)
	}
	apiOpts := api.Options{Token: cfg.APIToken, MaxStale: cfg.MaxStale, Logger: log.With("component", "api"),
		ForwardClient: forwardClient(rn.peers), Metrics: mx.Handler()}
	cfg.ACL.apply(&apiOpts, bundle != nil)
	h := api.NewHandler(node, apiOpts)
	rn.http = api.NewServer(cfg.HTTPAddr, h)
	if rn.metricsSrv, err = cfg.Metrics.serve(mx, log); err != nil {
		_ = ln.Close()
		_ = srv.Shutdown(context.Background())
		rn.releaseProcs()
		_ = node.Shutdown(context.Background())
		return nil, err
	}
	go func() {
		if err := rn.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()

	bg, stop := context.WithCancel(context.Background())
	rn.stop = stop
	go func() {
		defer close(rn.done)
		rn.background(bg, advertise, zonesPending)
	}()
	log.Info("node started", "dns", srv.Addr(), "http", cfg.HTTPAddr, "raft", cfg.RaftAddr, "tls", bundle != nil, "acl", aclOn)
	return rn, nil
}

// background joins the cluster or creates the bootstrap zones, then runs
// the node's periodic work until ctx ends.
func (rn *runningNode) background(ctx context.Context, advertise string, zonesPending bool) {
	if rn.cfg.Join != "" {
		req := peer.JoinRequest{ID: rn.cfg.NodeID, RaftAddr: rn.cfg.RaftAddr, HTTPAddr: advertise, DNSAddr: rn.cfg.DNSAddr, Role: peer.JoinRole(rn.cfg.Edge.role),
			NSName: rn.cfg.Edge.nsName}
		if err := rn.peers.Join(ctx, rn.cfg.Join, req); err != nil && ctx.Err() == nil {
			rn.log.Error("join failed", "via", rn.cfg.Join, "err", err)
		}
	}
	if zonesPending {
		if err := rn.ensureZones(ctx); err != nil && ctx.Err() == nil {
			rn.log.Error("creating bootstrap zones", "err", err)
		}
	}
	prober.New(rn.node, prober.Options{Logger: rn.log}).Run(ctx)
}

// ensureZones creates each --zone that does not exist yet, with this node
// as its one NS and glue from the DNS address.
func (rn *runningNode) ensureZones(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := rn.node.WaitLeader(wctx); err != nil {
		return err
	}
	glue := glueAddr(rn.dns.Addr())
	for _, z := range rn.cfg.Zones {
		name, err := control.CanonicalName(z)
		if err != nil {
			return err
		}
		if rn.node.State().Zone(name) != nil {
			continue
		}
		ns := "ns1." + name
		cmd := control.Command{
			Op: control.OpZonePut, Name: name, Actor: "bootstrap",
			Zone: &control.ZoneSpec{NS: []string{ns}, Glue: map[string][]netip.Addr{ns: {glue}}},
		}
		res, err := rn.node.Propose(wctx, cmd)
		if err != nil {
			return err
		}
		if res.Err != nil {
			return res.Err
		}
		rn.log.Info("zone created", "zone", name, "index", res.Index)
	}
	return nil
}

// glueAddr is the address advertised for the node's own NS name.
func glueAddr(hostport string) netip.Addr {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil || ap.Addr().IsUnspecified() {
		return netip.MustParseAddr("127.0.0.1")
	}
	return ap.Addr().Unmap()
}

// Shutdown stops the node in order: leave readiness and hand leadership
// over, stop the prober, the API, DNS, then Raft and the bolt store.
func (rn *runningNode) Shutdown(ctx context.Context) error {
	var errs []error
	if err := rn.node.StepDown(ctx); err != nil {
		rn.log.Warn("stepping down", "err", err)
	}
	rn.stop()
	<-rn.done
	if err := rn.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("http: %w", err))
	}
	if rn.metricsSrv != nil {
		_ = rn.metricsSrv.Close()
	}
	if err := rn.dns.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("dns: %w", err))
	}
	rn.releaseProcs()
	if err := rn.node.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("raft: %w", err))
	}
	return errors.Join(errs...)
}
