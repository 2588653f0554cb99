package main

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/client"
)

// mutFlags are the flags of every command that changes something.
type mutFlags struct {
	reason         string
	requestID      string
	expectRevision uint64
	wait           bool
	waitTimeout    time.Duration
	force          bool // switch and complete only (registerForce)
}

func (m *mutFlags) register(fs *pflag.FlagSet, withWait bool) {
	fs.StringVar(&m.reason, "reason", "", "why, for the audit history")
	fs.StringVar(&m.requestID, "request-id", "", "idempotency key: a retry with the same id returns the first result (default: a random one, printed on failure)")
	fs.Uint64Var(&m.expectRevision, "expect-revision", 0, "refuse unless the current revision is this one")
	if withWait {
		fs.BoolVar(&m.wait, "wait", false, "return once every member has applied the change")
		fs.DurationVar(&m.waitTimeout, "wait-timeout", 10*time.Second, "how long --wait waits (and --wait-healthy or --wait-safe, where the command has them)")
	}
}

// id is the request id of this write: --request-id, or one made once.
func (m *mutFlags) id() string {
	if m.requestID == "" {
		m.requestID = client.NewRequestID()
	}
	return m.requestID
}

func (m *mutFlags) meta() api.RequestMeta {
	return api.RequestMeta{ExpectRevision: m.expectRevision, RequestID: m.id(), Reason: m.reason, Force: m.force}
}

func (m *mutFlags) options() client.WriteOptions {
	o := client.WriteOptions{RequestID: m.id(), Wait: m.wait}
	if m.wait {
		o.WaitTimeout = max(m.waitTimeout, 0)
	}
	return o
}

// printed writes what a write did and passes its error on; a wait that
// did not complete (exit code 3) is printed too: the change is committed.
func (c *cliClient) printed(verb string, m *api.Mutation, raw []byte, err error) error {
	var we *client.WaitError
	if err != nil && !errors.As(err, &we) {
		return err
	}
	if c.json {
		c.printJSON(raw)
	} else {
		printMutation(c.stdout, verb, m)
	}
	return err
}

// runMutation builds a client and sends a write whose answer is a Mutation.
func runMutation(cf *clientFlags, cmd *cobra.Command, mf *mutFlags, verb, method, path string, body any) error {
	return withClient(cf, cmd, func(ctx context.Context, c *cliClient) error {
		m, raw, err := c.Mutate(ctx, method, path, body, mf.options())
		return c.printed(verb, m, raw, err)
	})
}

// withClient builds a client and runs f with it.
func withClient(cf *clientFlags, cmd *cobra.Command, f func(ctx context.Context, c *cliClient) error) error {
	c, err := cf.client(cmd)
	if err != nil {
		return err
	}
	return f(cmd.Context(), c)
}
