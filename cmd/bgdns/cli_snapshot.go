package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/client"
	"github.com/bgdns/bgdns/cluster"
)

// snapshotTimeout bounds one snapshot save or restore call.
const snapshotTimeout = 2 * time.Minute

// newSnapshotCmd is bgdns snapshot save|restore|inspect.
func newSnapshotCmd(cf *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Back up, restore and inspect the whole state (admin)",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "save FILE",
		Short: "Write a consistent, checksummed snapshot of the cluster's state to FILE",
		Args:  exactArgs(1, "the file to write"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.clientWith(cmd, snapshotClient)
			if err != nil {
				return err
			}
			b, err := c.snapshotGet(cmd.Context())
			if err != nil {
				return err
			}
			info, err := cluster.InspectSnapshot(b)
			if err != nil {
				return &exitError{code: client.ExitLocal, err: fmt.Errorf("the server sent a snapshot that does not verify: %w", err)}
			}
			if err := writeFileAtomic(args[0], b); err != nil {
				return err
			}
			return printSnapshotInfo(c.stdout, c.json, args[0], info)
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the state of the running cluster (every node) with the snapshot in FILE",
		Args:  exactArgs(1, "the snapshot file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			if _, err := cluster.InspectSnapshot(b); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			c, err := cf.clientWith(cmd, snapshotClient)
			if err != nil {
				return err
			}
			raw, err := c.snapshotPut(cmd.Context(), b)
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			var out struct {
				Index    uint64               `json:"index"`
				Snapshot cluster.SnapshotInfo `json:"snapshot"`
			}
			if err := json.Unmarshal(raw, &out); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "restored %s at index %d: %d zones, %d services, %d history records\n",
				args[0], out.Index, out.Snapshot.Zones, out.Snapshot.Services, out.Snapshot.HistoryRecords)
			return nil
		},
	})
	inspect := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Verify the snapshot in FILE and print what it holds",
		Args:  exactArgs(1, "the snapshot file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			info, err := cluster.InspectSnapshot(b)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return printSnapshotInfo(cmd.OutOrStdout(), cf.output == outputJSON, args[0], info)
		},
	}
	cmd.AddCommand(inspect)
	return cmd
}

func printSnapshotInfo(w io.Writer, asJSON bool, file string, info cluster.SnapshotInfo) error {
	if asJSON {
		b, err := json.Marshal(info)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	tw := newTable(w)
	row(tw, "file", file)
	row(tw, "format", info.Format)
	row(tw, "index", info.Index)
	row(tw, "zones", info.Zones)
	row(tw, "services", info.Services)
	row(tw, "history records", info.HistoryRecords)
	row(tw, "tokens", info.Tokens)
	row(tw, "members", info.Members)
	row(tw, "bytes", info.Bytes)
	row(tw, "checksum", map[bool]string{true: "ok", false: "none"}[info.ChecksumOK])
	return tw.Flush()
}

// snapshotClient gives snapshot calls a longer attempt and a larger
// answer bound than other calls.
func snapshotClient(cfg *client.Config) {
	cfg.Timeout = snapshotTimeout
	cfg.MaxResponse = maxSnapshotAnswer
}

// maxSnapshotAnswer bounds a snapshot read from a server.
const maxSnapshotAnswer = 1 << 30

func (c *cliClient) snapshotGet(ctx context.Context) ([]byte, error) {
	resp, err := c.Do(ctx, client.Request{Method: http.MethodGet, Path: "/v1/snapshot"})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

func (c *cliClient) snapshotPut(ctx context.Context, b []byte) ([]byte, error) {
	resp, err := c.Do(ctx, client.Request{Method: http.MethodPut, Path: "/v1/snapshot", Body: b, ContentType: api.SnapshotContentType})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory, synced and renamed: a crash never leaves half a backup.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
