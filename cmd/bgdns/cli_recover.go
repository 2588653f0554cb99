package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/cluster"
)

// newRecoverCmd is bgdns recover: quorum recovery on a stopped node.
func newRecoverCmd() *cobra.Command {
	var dataDir, voters, logLevel string
	cmd := &cobra.Command{
		Use:   "recover --data-dir DIR --voters ID=RAFTADDR,...",
		Short: "Rewrite a stopped node's Raft configuration after the cluster lost its majority for good",
		Long: "Run on every surviving node, stopped, with the same --voters (the survivors, by node id\n" +
			"and Raft address). It keeps every log entry the node holds and writes a snapshot whose\n" +
			"configuration is exactly --voters. Start the survivors again: they elect a leader among\n" +
			"themselves; add new nodes with serve --join.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataDir == "" {
				return errors.New("--data-dir is required")
			}
			vs, err := cluster.ParseVoters(voters)
			if err != nil {
				return fmt.Errorf("--voters: %w", err)
			}
			idx, err := cluster.Recover(dataDir, vs, newLogger(logLevel))
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "recovered %s at index %d: the configuration is now", dataDir, idx)
			for _, v := range vs {
				fmt.Fprintf(cmd.OutOrStdout(), " %s=%s", v.ID, v.RaftAddr)
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", "", "the stopped node's data directory (required)")
	f.StringVar(&voters, "voters", "", "the new voters: id=raft-addr, comma-separated (required)")
	f.StringVar(&logLevel, "log-level", "warn", "debug, info, warn or error")
	return cmd
}
