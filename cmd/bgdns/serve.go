package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func newServeCmd() *cobra.Command {
	var cfg nodeConfig
	var configPath, logLevel string
	var logs logFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a bgdns node: authoritative DNS, REST control plane and Raft",
		Long: "Run a bgdns node. Every flag can also be given as BGDNS_<FLAG> in the environment\n" +
			"(e.g. BGDNS_NODE_ID) or as a key in the YAML file named by --config.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnvAndConfig(cmd, configPath); err != nil {
				return err
			}
			log, err := logs.logger(os.Stderr, logLevel)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rn, err := startNode(ctx, cfg, log)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			<-ctx.Done()
			log.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := rn.Shutdown(sctx); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "YAML file with flag values (keys are flag names)")
	f.StringVar(&cfg.NodeID, "node-id", "", "unique id of this node (required)")
	f.StringVar(&cfg.DataDir, "data-dir", "", "directory for the Raft log, stable store and snapshots (required)")
	f.StringVar(&cfg.DNSAddr, "dns-addr", "127.0.0.1:5353", "DNS listen address, UDP and TCP")
	f.StringVar(&cfg.HTTPAddr, "http-addr", "127.0.0.1:8053", "REST API listen address")
	f.StringVar(&cfg.HTTPAdvertise, "http-advertise", "", "API base URL other nodes use to reach this one (default http://<http-addr>)")
	f.StringVar(&cfg.RaftAddr, "raft-addr", "127.0.0.1:7053", "Raft listen and advertise address")
	f.BoolVar(&cfg.Bootstrap, "bootstrap", false, "start a new cluster with this node as its first voter (ignored if data exists)")
	f.StringVar(&cfg.Join, "join", "", "join the cluster through the API of any member (http://host:port)")
	f.StringSliceVar(&cfg.Zones, "zone", nil, "zone to create at bootstrap if it does not exist (repeatable)")
	f.DurationVar(&cfg.MaxStale, "max-stale", 2*time.Second, "a node not confirmed as current by a leader for this long is stale and follows --stale-policy")
	f.StringVar(&cfg.StalePolicy, "stale-policy", "serve", "what a stale node answers: serve (its last applied state, marked with Extended DNS Error 3 and short TTLs) or servfail")
	f.StringVar(&cfg.APIToken, "api-token", "", "require this bearer token on every /v1 request")
	f.Uint64Var(&cfg.SnapshotThreshold, "snapshot-threshold", 8192, "log entries between Raft snapshots")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	addDNSFlags(f, &cfg.DNS)
	addSecurityFlags(f, &cfg.Security)
	addACLFlags(f, &cfg.ACL)
	addMetricsFlags(f, &cfg.Metrics)
	addLogFlags(f, &logs)
	addEdgeFlags(f, &cfg.Edge)
	return cmd
}

func newLogger(level string) *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: parseLevel(level)}))
}

func parseLevel(level string) slog.Level {
	switch strings.ToLower(level) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
