package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/bgdns/bgdns/cluster"
)

// readRestoreFile reads and verifies the --restore backup before anything
// is opened: a corrupt file stops the start with the reason.
func readRestoreFile(cfg nodeConfig) ([]byte, error) {
	if cfg.Restore == "" {
		return nil, nil
	}
	if !cfg.Bootstrap {
		return nil, errors.New("--restore starts a new cluster: give --bootstrap too (to restore a running cluster, use bgdns snapshot restore)")
	}
	b, err := os.ReadFile(cfg.Restore)
	if err != nil {
		return nil, fmt.Errorf("--restore: %w", err)
	}
	if _, err := cluster.InspectSnapshot(b); err != nil {
		return nil, fmt.Errorf("--restore %s: %w", cfg.Restore, err)
	}
	return b, nil
}

// restoreAtBootstrap applies the backup as the first entries of a new
// cluster, once this node leads it. A data directory that already holds a
// cluster is never overwritten.
func restoreAtBootstrap(ctx context.Context, node *cluster.Node, backup []byte, log *slog.Logger) error {
	if node.HadState() {
		return errors.New("--restore: the data directory already holds a cluster's state; " +
			"--restore only starts a new cluster (use bgdns snapshot restore on a running one)")
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for !node.IsLeader() {
		select {
		case <-rctx.Done():
			return fmt.Errorf("--restore: not the leader of the new cluster: %w", rctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	info, index, err := node.RestoreSnapshot(rctx, backup, "serve --restore")
	if err != nil {
		return fmt.Errorf("--restore: %w", err)
	}
	log.Info("new cluster started from a backup", "index", index, "backup_index", info.Index,
		"zones", info.Zones, "services", info.Services)
	return nil
}
