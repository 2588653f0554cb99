package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

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

func newSwitchCmd(cf *clientFlags) *cobra.Command {
	var (
		mf mutFlags
		to string
	)
	cmd := &cobra.Command{
		Use:     "switch NAME",
		Short:   "Switch the live name to the other colour",
		Example: `  bgdns switch api.bg.example.com --reason "2.0 passed tests" --wait`,
		Args:    exactArgs(1, "the service NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := api.SwitchRequest{RequestMeta: mf.meta(), To: to}
			return runMutation(cf, cmd, &mf, "switch", http.MethodPost, servicePath(args[0])+"/switch", body)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "colour to switch to (default: the idle one)")
	mf.register(cmd.Flags(), true)
	registerForce(cmd.Flags(), &mf)
	return cmd
}

// newStepCmd is rollback or complete: a step with only the request fields.
func newStepCmd(cf *clientFlags, verb, short string) *cobra.Command {
	var mf mutFlags
	cmd := &cobra.Command{
		Use:   verb + " NAME",
		Short: short,
		Args:  exactArgs(1, "the service NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := api.ActionRequest{RequestMeta: mf.meta()}
			return runMutation(cf, cmd, &mf, verb, http.MethodPost, servicePath(args[0])+"/"+verb, body)
		},
	}
	mf.register(cmd.Flags(), true)
	if verb == "complete" {
		registerForce(cmd.Flags(), &mf)
	}
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
			c, err := cf.client(cmd, 0)
			if err != nil {
				return err
			}
			var q url.Values
			if limit > 0 {
				q = url.Values{"limit": {strconv.Itoa(limit)}}
			}
			var h api.History
			raw, err := c.get(cmd.Context(), servicePath(args[0])+"/history", q, &h)
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
			} else {
				printHistory(c.stdout, h.Records)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many records (default 100)")
	return cmd
}
