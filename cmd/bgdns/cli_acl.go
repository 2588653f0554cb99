package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/client"
	"github.com/bgdns/bgdns/control"
)

// newACLCmd is `bgdns acl`: bootstrap and tokens.
func newACLCmd(cf *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "acl",
		Short: "Bootstrap ACLs and manage tokens",
		Args:  noSubcommand,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	tok := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke ACL tokens",
		Args:  noSubcommand,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	tok.AddCommand(newTokenCreateCmd(cf), newTokenListCmd(cf), newTokenRevokeCmd(cf))
	cmd.AddCommand(newACLBootstrapCmd(cf), tok)
	return cmd
}

func newACLBootstrapCmd(cf *clientFlags) *cobra.Command {
	var mf mutFlags
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Create the first admin token (once per cluster); prints its secret once",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return tokenChange(cf, cmd, http.MethodPost, "/v1/acl/bootstrap", mf.id(), api.ActionRequest{RequestMeta: mf.meta()})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&mf.reason, "reason", "", "why, for the audit")
	fs.StringVar(&mf.requestID, "request-id", "", "idempotency key")
	return cmd
}

func newTokenCreateCmd(cf *clientFlags) *cobra.Command {
	var (
		in api.TokenCreate
		mf mutFlags
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME --role ROLE [--scope NAME|GLOB]...",
		Short: "Create a token; prints its secret once",
		Long: `Create a token. Roles, each including the ones before it:
  read      every GET
  deploy    deploy, switch, rollback and complete of services in scope
  operator  service and zone put and delete, freeze, force
  admin     cluster membership and tokens (needs an empty scope)
A scope entry is a zone name (covering every name in it) or a name glob
where "*" stands for one label; no scope means everything.`,
		Example: "  bgdns acl token create --name ci-api --role deploy --scope 'api.*.bg.example.com'",
		Args:    exactArgs(0, "flags only"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.Name == "" || in.Role == "" {
				return fmt.Errorf("acl token create needs --name and --role")
			}
			if !control.Role(in.Role).Valid() {
				return fmt.Errorf("--role must be read, deploy, operator or admin, not %q", in.Role)
			}
			in.RequestMeta = mf.meta()
			return tokenChange(cf, cmd, http.MethodPost, "/v1/acl/tokens", mf.id(), in)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&in.Name, "name", "", "token name: the actor in the history")
	fs.StringVar(&in.Role, "role", "", "read, deploy, operator or admin")
	fs.StringSliceVar(&in.Scope, "scope", nil, "zone names or name globs the token may change (comma-separated or repeated)")
	fs.StringVar(&mf.reason, "reason", "", "why, for the audit")
	fs.StringVar(&mf.requestID, "request-id", "", "idempotency key: a retry returns the first token (without its secret)")
	return cmd
}

func newTokenRevokeCmd(cf *clientFlags) *cobra.Command {
	var mf mutFlags
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token: it stops working on every node as the entry applies",
		Args:  exactArgs(1, "the token ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return tokenChange(cf, cmd, http.MethodDelete, "/v1/acl/tokens/"+url.PathEscape(args[0]), mf.id(), api.ActionRequest{RequestMeta: mf.meta()})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&mf.reason, "reason", "", "why, for the audit")
	fs.StringVar(&mf.requestID, "request-id", "", "idempotency key")
	return cmd
}

// tokenChange sends a bootstrap, create or revoke and prints the answer;
// a secret goes to stdout once, with a warning on stderr.
func tokenChange(cf *clientFlags, cmd *cobra.Command, method, path, requestID string, body any) error {
	c, err := cf.client(cmd)
	if err != nil {
		return err
	}
	resp, err := c.Write(cmd.Context(), method, path, body, client.WriteOptions{RequestID: requestID})
	if err != nil {
		return err
	}
	raw := resp.Body
	var tc api.TokenChange
	if err := json.Unmarshal(raw, &tc); err != nil || tc.Token == nil {
		return fmt.Errorf("unreadable answer from %s (not a token change)", resp.Server)
	}
	if tc.Secret != "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "The secret is shown only this once: keep it now (bgdns stores only its hash).")
	}
	if c.json {
		c.printJSON(raw)
		return nil
	}
	w := c.stdout
	tw := newTable(w)
	switch {
	case method == http.MethodDelete:
		fmt.Fprintf(w, "revoked %s (%s) at index %d\n", tc.Token.ID, tc.Token.Name, tc.Index)
		return nil
	case tc.Duplicate:
		fmt.Fprintf(w, "already created by this request id (the secret was shown then):\n")
	}
	row(tw, "ID", tc.Token.ID)
	row(tw, "NAME", tc.Token.Name)
	row(tw, "ROLE", tc.Token.Role)
	row(tw, "SCOPE", scopeText(tc.Token.Scope))
	row(tw, "INDEX", tc.Index)
	if tc.Secret != "" {
		row(tw, "SECRET", tc.Secret)
	}
	return tw.Flush()
}

func scopeText(s []string) string {
	if len(s) == 0 {
		return "(everything)"
	}
	return strings.Join(s, ",")
}

func newTokenListCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List tokens (never their secrets)",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			items, raw, err := c.GetAll(cmd.Context(), "/v1/acl/tokens", nil, "tokens")
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			ts, err := client.DecodeAll[*api.TokenInfo](items)
			if err != nil {
				return err
			}
			printTokens(c.stdout, ts)
			return nil
		},
	}
}

func printTokens(w io.Writer, ts []*api.TokenInfo) {
	tw := newTable(w)
	row(tw, "ID", "NAME", "ROLE", "SCOPE", "CREATED", "BY")
	for _, t := range ts {
		row(tw, t.ID, t.Name, t.Role, scopeText(t.Scope), fmtTime(t.CreatedAt), t.CreatedBy)
	}
	tw.Flush()
}

// newAuditCmd is `bgdns audit`: zone, membership and token changes.
func newAuditCmd(cf *clientFlags) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit records of zone, membership and token changes, newest first",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return fmt.Errorf("--limit must be positive")
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			var recs []control.Record
			var raw []byte
			if limit > 0 {
				var l api.AuditList
				raw, err = c.Get(cmd.Context(), "/v1/audit", url.Values{"limit": {strconv.Itoa(limit)}}, &l)
				recs = l.Records
			} else {
				var items []json.RawMessage
				items, raw, err = c.GetAll(cmd.Context(), "/v1/audit", nil, "records")
				if err == nil {
					recs, err = client.DecodeAll[control.Record](items)
				}
			}
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			printAudit(c.stdout, recs)
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many records (default: all kept)")
	return cmd
}

func printAudit(w io.Writer, recs []control.Record) {
	tw := newTable(w)
	row(tw, "TIME", "INDEX", "ACTION", "TARGET", "FROM", "TO", "ACTOR", "ON BEHALF OF", "REASON", "REQUEST")
	for _, r := range recs {
		row(tw, fmtTime(r.Time), r.Index, r.Action, trimName(r.Target), r.From, r.To, r.Actor, r.OnBehalfOf, r.Reason, r.RequestID)
	}
	tw.Flush()
}
