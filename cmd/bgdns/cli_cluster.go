package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/peer"
)

// newStatusCmd shows the leader, the members and a services summary.
func newStatusCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the leader, the members and the services",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd, 0)
			if err != nil {
				return err
			}
			var cl api.Cluster
			rawCluster, err := c.get(cmd.Context(), "/v1/cluster", nil, &cl)
			if err != nil {
				return err
			}
			// ?stale: the status of a node that is catching up still lists
			// what it holds
			items, rawSvcs, err := c.getAll(cmd.Context(), "/v1/services", url.Values{"stale": {""}}, "services")
			if err != nil {
				return err
			}
			svcs, err := decodeAll[*api.Service](items)
			if err != nil {
				return err
			}
			ready, rawReady, err := c.readiness(cmd.Context())
			if err != nil {
				return err
			}
			if c.json {
				out, err := json.Marshal(struct {
					Cluster  json.RawMessage `json:"cluster"`
					Ready    json.RawMessage `json:"ready"`
					Services json.RawMessage `json:"services"`
				}{rawCluster, rawReady, rawSvcs})
				if err != nil {
					return err
				}
				c.printJSON(out)
				return nil
			}
			w := c.stdout
			leader := "none"
			if cl.Leader != nil {
				leader = cl.Leader.ID
				if cl.Leader.HTTPAddr != "" {
					leader += " (" + cl.Leader.HTTPAddr + ")"
				}
			}
			tw := newTable(w)
			row(tw, "SERVER", c.base)
			row(tw, "NODE", cl.Self)
			readyText := "yes"
			if ready.Status != "ready" {
				readyText = "no: " + ready.Reason
			}
			row(tw, "READY", readyText)
			row(tw, "LEADER", leader)
			row(tw, "COMMIT INDEX", cl.CommitIndex)
			tw.Flush()
			fmt.Fprintln(w)
			printMembers(w, cl.Members)
			fmt.Fprintln(w)
			printServices(w, svcs)
			return nil
		},
	}
}

func newClusterCmd(cf *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Show and change cluster membership",
		Args:  noSubcommand,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newMembersCmd(cf), newJoinCmd(cf), newRemoveCmd(cf))
	return cmd
}

func newMembersCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "members",
		Short: "List members: id, addresses, voter, leader, applied index, last contact",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd, 0)
			if err != nil {
				return err
			}
			var cl api.Cluster
			raw, err := c.get(cmd.Context(), "/v1/cluster", nil, &cl)
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
			} else {
				printMembers(c.stdout, cl.Members)
			}
			return nil
		},
	}
}

func newJoinCmd(cf *clientFlags) *cobra.Command {
	var req peer.JoinRequest
	cmd := &cobra.Command{
		Use:     "join --id ID --raft-addr HOST:PORT --http-addr URL [--dns-addr HOST:PORT]",
		Short:   "Add a node to the cluster",
		Example: "  bgdns cluster join --id n4 --raft-addr 127.0.0.74:7053 --http-addr http://127.0.0.74:8053 --dns-addr 127.0.0.74:5353",
		Args:    exactArgs(0, "flags only"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.ID == "" || req.RaftAddr == "" {
				return fmt.Errorf("cluster join needs --id and --raft-addr")
			}
			return membership(cf, cmd, http.MethodPost, "/v1/cluster/join", req,
				func(m api.MembershipChange) string { return "joined " + m.Joined.ID })
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&req.ID, "id", "", "node id")
	fs.StringVar(&req.RaftAddr, "raft-addr", "", "the node's Raft address (host:port)")
	fs.StringVar(&req.HTTPAddr, "http-addr", "", "the node's API address")
	fs.StringVar(&req.DNSAddr, "dns-addr", "", "the node's DNS address (host:port)")
	fs.StringVar(&req.Role, "role", "", "voter (the default) or edge (a non-voting member)")
	fs.BoolVar(&req.NonVoter, "non-voter", false, "join as a non-voting member (the same as --role edge)")
	return cmd
}

func newRemoveCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a node from the cluster",
		Args:  exactArgs(1, "the node ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return membership(cf, cmd, http.MethodDelete, "/v1/cluster/members/"+url.PathEscape(args[0]), nil,
				func(m api.MembershipChange) string { return "removed " + m.Removed })
		},
	}
}

func membership(cf *clientFlags, cmd *cobra.Command, method, path string, body any, say func(api.MembershipChange) string) error {
	c, err := cf.client(cmd, 0)
	if err != nil {
		return err
	}
	raw, err := c.do(cmd.Context(), method, path, nil, body)
	if err != nil {
		return err
	}
	if c.json {
		c.printJSON(raw)
		return nil
	}
	var m api.MembershipChange
	if err := json.Unmarshal(raw, &m); err != nil || (m.Joined == nil && m.Removed == "") {
		return &exitError{code: exitAPIError, err: fmt.Errorf("unreadable answer from %s: %s", c.base, raw)}
	}
	fmt.Fprintln(c.stdout, say(m))
	return nil
}

// readiness reads /readyz, whose 503 is an answer, not a failure.
func (c *apiClient) readiness(ctx context.Context) (api.Health, []byte, error) {
	var h api.Health
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/readyz", nil)
	if err != nil {
		return h, nil, err
	}
	c.setHeaders(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return h, nil, &exitError{code: exitAPIError, err: fmt.Errorf("unavailable: GET %s: %w", c.base, unwrapURLError(err))}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxClientResponse))
	if err == nil {
		err = json.Unmarshal(raw, &h)
	}
	if err != nil || h.Status == "" {
		return h, nil, &exitError{code: exitAPIError, err: decodeAPIError(resp.StatusCode, raw)}
	}
	return h, bytes.TrimSpace(raw), nil
}
