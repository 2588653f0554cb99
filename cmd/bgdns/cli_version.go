package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/buildinfo"
)

// versionRetryFor bounds how long `bgdns version` looks for a server
// unless --retry-for is given: the local version needs none.
const versionRetryFor = 2 * time.Second

// newVersionCmd is `bgdns version`: this binary's build information and,
// when a server answers, the server's (GET /v1/version).
func newVersionCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Show the version of this binary and of the server",
		Long: `Show the version, commit, Go version and encoding versions of this binary
and, when a server answers (--server), of that server. An unreachable
server is reported, not an error.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("retry-for") {
				cf.retryFor = min(cf.retryFor, versionRetryFor)
			}
			local := buildinfo.Get()
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), cf.retryFor+10*time.Second)
			defer cancel()
			remote, raw, serr := c.Version(ctx)
			if c.json {
				out := struct {
					Client      buildinfo.Info  `json:"client"`
					Server      json.RawMessage `json:"server"`
					ServerURL   string          `json:"server_url"`
					ServerError string          `json:"server_error,omitempty"`
				}{Client: local, Server: raw, ServerURL: c.Server()}
				if serr != nil {
					out.Server, out.ServerError = json.RawMessage("null"), serr.Error()
				}
				b, err := json.Marshal(out)
				if err != nil {
					return err
				}
				c.printJSON(b)
				return nil
			}
			tw := newTable(c.stdout)
			if serr != nil {
				row(tw, "BUILD", "CLIENT")
				row(tw, "VERSION", local.Version)
				row(tw, "COMMIT", local.Commit)
				row(tw, "GO", local.GoVersion)
				row(tw, "RAFT PROTOCOL", local.RaftProtocol)
				row(tw, "ENTRY ENCODING", local.EntryEncoding)
				row(tw, "SNAPSHOT ENCODING", local.SnapshotEncoding)
				tw.Flush()
				fmt.Fprintf(cmd.ErrOrStderr(), "server %s: version unknown: %v\n", c.Server(), serr)
				return nil
			}
			row(tw, "BUILD", "CLIENT", "SERVER "+c.Server())
			row(tw, "VERSION", local.Version, remote.Version)
			row(tw, "COMMIT", local.Commit, remote.Commit)
			row(tw, "GO", local.GoVersion, remote.GoVersion)
			row(tw, "RAFT PROTOCOL", local.RaftProtocol, remote.RaftProtocol)
			row(tw, "ENTRY ENCODING", local.EntryEncoding, remote.EntryEncoding)
			row(tw, "SNAPSHOT ENCODING", local.SnapshotEncoding, remote.SnapshotEncoding)
			return tw.Flush()
		},
	}
}
