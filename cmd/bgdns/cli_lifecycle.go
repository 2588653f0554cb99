package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/api"
)

func newDeployCmd(cf *clientFlags) *cobra.Command {
	var (
		mf      mutFlags
		version string
		addrs   []string
	)
	cmd := &cobra.Command{
		Use:     "deploy NAME --version V --addr ADDR...",
		Short:   "Deploy a version onto the idle colour",
		Example: "  bgdns deploy api.bg.example.com --version 2.0 --addr 10.0.0.21 --addr 2001:db8::21",
		Args:    exactArgs(1, "the service NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version == "" || len(addrs) == 0 {
				return fmt.Errorf("deploy needs --version and at least one --addr")
			}
			body := api.DeployRequest{RequestMeta: mf.meta(), Version: version, Addresses: addrs}
			return runMutation(cf, cmd, &mf, "deploy", http.MethodPost, servicePath(args[0])+"/deploy", body)
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "version being deployed")
	cmd.Flags().StringSliceVar(&addrs, "addr", nil, "address of the new pool (repeated or comma-separated)")
	mf.register(cmd.Flags(), true)
	return cmd
}

func newRollbackCmd(cf *clientFlags) *cobra.Command {
	var mf mutFlags
	cmd := &cobra.Command{
		Use:   "rollback NAME",
		Short: "Switch back to the previous colour",
		Args:  exactArgs(1, "the service NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := api.ActionRequest{RequestMeta: mf.meta()}
			return runMutation(cf, cmd, &mf, "rollback", http.MethodPost, servicePath(args[0])+"/rollback", body)
		},
	}
	mf.register(cmd.Flags(), true)
	return cmd
}

func newHistoryCmd(cf *clientFlags) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "history NAME",
		Short: "Show a service's audit records, newest first",
		Args:  exactArgs(1, "the service NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 0 {
				return fmt.Errorf("--limit must be positive")
			}
			return withClient(cf, cmd, func(ctx context.Context, c *cliClient) error {
				h, raw, err := c.History(ctx, args[0], limit)
				if err != nil {
					return err
				}
				if c.json {
					c.printJSON(raw)
				} else {
					printHistory(c.stdout, h.Records)
				}
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many records (default 100)")
	return cmd
}
