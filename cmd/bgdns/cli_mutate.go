package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bgdns/bgdns/api"
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
	fs.StringVar(&m.requestID, "request-id", "", "idempotency key: a retry with the same id returns the first result")
	fs.Uint64Var(&m.expectRevision, "expect-revision", 0, "refuse unless the current revision is this one")
	if withWait {
		fs.BoolVar(&m.wait, "wait", false, "return once every member has applied the change")
		fs.DurationVar(&m.waitTimeout, "wait-timeout", 10*time.Second, "how long --wait waits")
	}
}

func (m *mutFlags) meta() api.RequestMeta {
	return api.RequestMeta{ExpectRevision: m.expectRevision, RequestID: m.requestID, Reason: m.reason, Force: m.force}
}

func (m *mutFlags) query() url.Values {
	if !m.wait {
		return nil
	}
	q := url.Values{"wait": {"all"}}
	if m.waitTimeout > 0 {
		q.Set("wait_timeout", m.waitTimeout.String())
	}
	return q
}

// timeout is the client timeout: long enough for the wait.
func (m *mutFlags) timeout() time.Duration {
	if m.wait {
		return max(m.waitTimeout, 0) + clientTimeout
	}
	return clientTimeout
}

// mutate sends a write and prints its result; a wait that did not
// complete is exit code 3 (the change itself is committed).
func (c *apiClient) mutate(ctx context.Context, cmd *cobra.Command, verb, method, path string, q url.Values, body any) error {
	raw, err := c.do(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	var m api.Mutation
	if err := json.Unmarshal(raw, &m); err != nil {
		return &exitError{code: exitAPIError, err: fmt.Errorf("unreadable answer from %s: %w", c.base, err)}
	}
	if c.json {
		c.printJSON(raw)
	} else {
		printMutation(c.stdout, verb, &m)
	}
	if w := m.Wait; w != nil && !w.Complete {
		return &exitError{code: exitWaitIncomplete, err: fmt.Errorf(
			"wait: committed at index %d, but not every member applied it in time (lagging: %s)",
			w.Index, strings.Join(w.Lagging, ", "))}
	}
	return nil
}

// runMutation builds a client honouring the wait flags and sends a write.
func runMutation(cf *clientFlags, cmd *cobra.Command, mf *mutFlags, verb, method, path string, body any) error {
	c, err := cf.client(cmd, mf.timeout())
	if err != nil {
		return err
	}
	return c.mutate(cmd.Context(), cmd, verb, method, path, mf.query(), body)
}
