package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/client"
	"github.com/bgdns/bgdns/peer"
)

// newStatusCmd shows the leader, the members and a services summary.
func newStatusCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the leader, the members and the services",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			cl, rawCluster, err := c.Cluster(cmd.Context())
			if err != nil {
				return err
			}
			// ?stale: the status of a node that is catching up still lists
			// what it holds
			items, rawSvcs, err := c.GetAll(cmd.Context(), "/v1/services", url.Values{"stale": {""}}, "services")
			if err != nil {
				return err
			}
			svcs, err := client.DecodeAll[*api.Service](items)
			if err != nil {
				return err
			}
			ready, rawReady, err := c.Ready(cmd.Context())
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
			row(tw, "SERVER", c.Server())
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
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			cl, raw, err := c.Cluster(cmd.Context())
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
	var (
		req peer.JoinRequest
		rid string
	)
	cmd := &cobra.Command{
		Use:     "join --id ID --raft-addr HOST:PORT --http-addr URL [--dns-addr HOST:PORT]",
		Short:   "Add a node to the cluster",
		Example: "  bgdns cluster join --id n4 --raft-addr 127.0.0.74:7053 --http-addr http://127.0.0.74:8053 --dns-addr 127.0.0.74:5353",
		Args:    exactArgs(0, "flags only"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.ID == "" || req.RaftAddr == "" {
				return fmt.Errorf("cluster join needs --id and --raft-addr")
			}
			return membership(cf, cmd, http.MethodPost, "/v1/cluster/join", rid, req,
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
	fs.StringVar(&rid, "request-id", "", "request id, for the audit (default: a random one)")
	return cmd
}

func newRemoveCmd(cf *clientFlags) *cobra.Command {
	var rid string
	cmd := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a node from the cluster",
		Args:  exactArgs(1, "the node ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return membership(cf, cmd, http.MethodDelete, "/v1/cluster/members/"+url.PathEscape(args[0]), rid, nil,
				func(m api.MembershipChange) string { return "removed " + m.Removed })
		},
	}
	cmd.Flags().StringVar(&rid, "request-id", "", "request id, for the audit (default: a random one)")
	return cmd
}

func membership(cf *clientFlags, cmd *cobra.Command, method, path, requestID string, body any, say func(api.MembershipChange) string) error {
	c, err := cf.client(cmd)
	if err != nil {
		return err
	}
	resp, err := c.Write(cmd.Context(), method, path, body, client.WriteOptions{RequestID: requestID})
	if err != nil {
		return err
	}
	raw := resp.Body
	if c.json {
		c.printJSON(raw)
		return nil
	}
	var m api.MembershipChange
	if err := json.Unmarshal(raw, &m); err != nil || (m.Joined == nil && m.Removed == "") {
		return fmt.Errorf("unreadable answer from %s: %s", resp.Server, raw)
	}
	fmt.Fprintln(c.stdout, say(m))
	return nil
}
