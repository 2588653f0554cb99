package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/user"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/client"
)

// Client defaults.
const (
	outputTable, outputJSON = "table", "json"
)

// clientFlags are the persistent flags every client command reads.
type clientFlags struct {
	server   string
	output   string
	token    string
	caCert   string
	retryFor time.Duration
}

// addClientCommands registers the client commands (status, service, zone,
// deploy, switch, rollback, complete, history, cluster, acl, ...) on root and
// the persistent flags --server (BGDNS_SERVER), -o/--output, --token
// (BGDNS_TOKEN), --ca-cert (BGDNS_CACERT) and --retry-for.
func addClientCommands(root *cobra.Command) {
	cf := &clientFlags{}
	pf := root.PersistentFlags()
	pf.StringVar(&cf.server, "server", envOr("BGDNS_SERVER", client.DefaultServer),
		"API addresses of cluster members, comma-separated: the next one is tried when one cannot be reached (env BGDNS_SERVER)")
	pf.StringVarP(&cf.output, "output", "o", outputTable, "output format: table or json")
	pf.StringVar(&cf.token, "token", os.Getenv("BGDNS_TOKEN"), "API bearer token (env BGDNS_TOKEN; prefer the environment: a flag shows in the process list)")
	pf.StringVar(&cf.caCert, "ca-cert", os.Getenv("BGDNS_CACERT"), "PEM CA certificate that signed the servers' certificates, for https:// servers (env BGDNS_CACERT)")
	pf.DurationVar(&cf.retryFor, "retry-for", client.DefaultRetryFor,
		"keep retrying, on the next server, while no server answers or the cluster has no leader, for at most this long (0: no retry)")
	root.AddCommand(
		newStatusCmd(cf),
		newServiceCmd(cf),
		newZoneCmd(cf),
		newDeployCmd(cf),
		newSwitchCmd(cf),
		newRollbackCmd(cf),
		newCompleteCmd(cf),
		newFreezeCmd(cf, "freeze", "Refuse switches of a service (or zone) until unfrozen"),
		newFreezeCmd(cf, "unfreeze", "Lift the freeze of a service (or zone)"),
		newHistoryCmd(cf),
		newClusterCmd(cf),
		newACLCmd(cf),
		newAuditCmd(cf),
		newVersionCmd(cf),
		newSnapshotCmd(cf),
		newWatchCmd(cf),
	)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// cliClient is the API client with how the command prints.
type cliClient struct {
	*client.Client
	json   bool
	stdout io.Writer
}

// client checks the persistent flags and returns a client for cmd.
func (cf *clientFlags) client(cmd *cobra.Command) (*cliClient, error) {
	return cf.clientWith(cmd, nil)
}

// clientWith is client with tune applied to the configuration (when not
// nil): a larger answer bound for snapshots, say.
func (cf *clientFlags) clientWith(cmd *cobra.Command, tune func(*client.Config)) (*cliClient, error) {
	switch cf.output {
	case outputTable, outputJSON:
	default:
		return nil, fmt.Errorf("--output must be table or json, not %q", cf.output)
	}
	servers, err := client.ParseServers(cf.server)
	if err != nil {
		return nil, fmt.Errorf("--server: %w", err)
	}
	if cf.retryFor < 0 {
		return nil, fmt.Errorf("--retry-for must not be negative")
	}
	retryFor := cf.retryFor
	if retryFor == 0 {
		retryFor = -1 // the client's "no retry"
	}
	cfg := client.Config{
		Servers: servers, Token: cf.token, CAFile: cf.caCert, Actor: cliActor(), RetryFor: retryFor,
	}
	if tune != nil {
		tune(&cfg)
	}
	c, err := client.New(cfg)
	if err != nil {
		return nil, err
	}
	return &cliClient{Client: c, json: cf.output == outputJSON, stdout: cmd.OutOrStdout()}, nil
}

// cliActor names who runs the client in the audit history.
func cliActor() string {
	if a := os.Getenv("BGDNS_ACTOR"); a != "" {
		return a
	}
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

// printJSON writes the API's JSON exactly as it came, ending in a newline.
func (c *cliClient) printJSON(raw []byte) {
	raw = bytes.TrimRight(raw, "\n")
	_, _ = c.stdout.Write(append(raw, '\n'))
}

// servicePath, zonePath and trimName: see the client package.
func servicePath(name string) string { return client.ServicePath(name) }
func zonePath(name string) string    { return client.ZonePath(name) }
func trimName(n string) string       { return client.TrimName(n) }

// exactArgs is cobra.ExactArgs with a message naming what is expected.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s expects %s (got %d arguments); see --help", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}
