package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/client"
)

// gatePoll is how often --wait-healthy and --wait-safe read the service.
const gatePoll = 250 * time.Millisecond

func newSwitchCmd(cf *clientFlags) *cobra.Command {
	var (
		mf          mutFlags
		to          string
		waitHealthy bool
	)
	cmd := &cobra.Command{
		Use:   "switch NAME",
		Short: "Switch the live name to the other colour",
		Long: `Switch the live name to the other colour (or to --to COLOUR).

With --to, a colour that is already active is not an error: nothing is
changed, the command says so and exits 0. With --wait-healthy, the command
first waits (up to --wait-timeout) until the target colour's health gate
passes (min_healthy healthy addresses), then switches; if the gate does not
pass in time, nothing is changed and the exit code is 4.`,
		Example: `  bgdns switch api.bg.example.com --reason "2.0 passed tests" --wait
  bgdns switch api.bg.example.com --to green --wait-healthy --wait-timeout 2m --wait`,
		Args: exactArgs(1, "the service NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			to = strings.ToLower(strings.TrimSpace(to))
			return withClient(cf, cmd, func(ctx context.Context, c *cliClient) error {
				target := to
				if to != "" || waitHealthy {
					s, raw, err := c.GetService(ctx, name)
					if err != nil {
						return err
					}
					if to != "" && s.Active == to {
						return c.noopSwitch(s, raw)
					}
					if target == "" {
						target = otherColour(s.Active)
					}
				}
				if waitHealthy {
					if err := c.waitHealthy(ctx, cmd, name, target, mf.waitTimeout); err != nil {
						return err
					}
				}
				m, raw, err := c.Switch(ctx, name, api.SwitchRequest{RequestMeta: mf.meta(), To: to}, mf.options())
				if s := alreadyActive(err, to); s != nil {
					// another switch got there first
					b, _ := json.Marshal(s)
					return c.noopSwitch(s, b)
				}
				return c.printed("switch", m, raw, err)
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&to, "to", "", "colour to switch to (default: the idle one); already active is a no-op")
	fs.BoolVar(&waitHealthy, "wait-healthy", false, "first wait, up to --wait-timeout, until the target colour's health gate passes")
	mf.register(fs, true)
	registerForce(fs, &mf)
	return cmd
}

func otherColour(c string) string {
	if c == "green" {
		return "blue"
	}
	return "green"
}

// alreadyActive returns the service of a 409 that says colour to is
// already active.
func alreadyActive(err error, to string) *api.Service {
	var ae *client.APIError
	if to == "" || !errors.As(err, &ae) || ae.Status != http.StatusConflict || ae.Service == nil || ae.Service.Active != to {
		return nil
	}
	return ae.Service
}

// noopSwitch says that the colour asked for is already active.
func (c *cliClient) noopSwitch(s *api.Service, raw json.RawMessage) error {
	if c.json {
		out, err := json.Marshal(struct {
			Noop    bool            `json:"noop"`
			Service json.RawMessage `json:"service"`
		}{true, raw})
		if err != nil {
			return err
		}
		c.printJSON(out)
		return nil
	}
	fmt.Fprintf(c.stdout, "switch %s: %s is already active (revision %d): nothing to do\n", s.Name, s.Active, s.Revision)
	return nil
}

// healthGate reports whether a switch of s to colour would pass the
// health gate (min_healthy healthy addresses), and if not, why.
func healthGate(s *api.Service, colour string) (bool, string) {
	if s.HealthCheck == nil || s.MinHealthy <= 0 {
		return true, ""
	}
	var h *api.ColourHealth
	if s.Health != nil {
		h = s.Health.Blue
		if colour == "green" {
			h = s.Health.Green
		}
	}
	if h == nil {
		return false, fmt.Sprintf("%s has no addresses", colour)
	}
	if h.Healthy >= s.MinHealthy {
		return true, ""
	}
	return false, fmt.Sprintf("%s has %d of %d addresses healthy and min_healthy is %d", colour, h.Healthy, h.Total, s.MinHealthy)
}

// waitHealthy polls the service until colour's health gate passes or
// timeout runs out (exit code 4: nothing changed).
func (c *cliClient) waitHealthy(ctx context.Context, cmd *cobra.Command, name, colour string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	said := ""
	for {
		s, _, err := c.GetService(ctx, name)
		if err != nil {
			return err
		}
		ok, why := healthGate(s, colour)
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return &exitError{code: client.ExitPrecondition, err: fmt.Errorf(
				"wait-healthy: the health gate of %s did not pass within %s (%s); nothing was changed", colour, timeout, why)}
		}
		if why != said {
			fmt.Fprintf(cmd.ErrOrStderr(), "waiting for %s's health gate: %s\n", colour, why)
			said = why
		}
		if err := sleepCtx(ctx, gatePoll); err != nil {
			return err
		}
	}
}

func newCompleteCmd(cf *clientFlags) *cobra.Command {
	var (
		mf       mutFlags
		waitSafe bool
	)
	cmd := &cobra.Command{
		Use:   "complete NAME",
		Short: "Finish the deployment and retire the old colour",
		Long: `Finish the deployment and retire the old colour.

With --wait-safe, the command first waits (up to --wait-timeout) until the
retire watermark of the last switch has passed: every member confirmed
applying it and the longest TTL the old answer could carry has run out.
If it does not pass in time, nothing is changed and the exit code is 4.`,
		Example: `  bgdns complete api.bg.example.com --wait-safe --wait-timeout 1m`,
		Args:    exactArgs(1, "the service NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			return withClient(cf, cmd, func(ctx context.Context, c *cliClient) error {
				if !waitSafe {
					m, raw, err := c.Complete(ctx, name, api.ActionRequest{RequestMeta: mf.meta()}, mf.options())
					return c.printed("complete", m, raw, err)
				}
				return c.completeWhenSafe(ctx, cmd, name, &mf)
			})
		},
	}
	mf.register(cmd.Flags(), true)
	registerForce(cmd.Flags(), &mf)
	cmd.Flags().BoolVar(&waitSafe, "wait-safe", false, "first wait, up to --wait-timeout, until the retire watermark has passed")
	return cmd
}

// retireSafe reports whether the retire watermark of s has passed, by
// this machine's clock, and if not, why.
func retireSafe(s *api.Service, now time.Time) (bool, string) {
	rt := s.Retire
	switch {
	case rt == nil:
		return true, ""
	case !rt.Safe && len(rt.WaitingFor) > 0:
		return false, fmt.Sprintf("waiting for %s to confirm the switch at index %d", strings.Join(rt.WaitingFor, ", "), rt.SwitchIndex)
	case !rt.Safe:
		return false, fmt.Sprintf("waiting for every member to confirm the switch at index %d", rt.SwitchIndex)
	case now.Before(s.SafeToRetireAt):
		return false, fmt.Sprintf("resolvers may hold the old answer until %s", fmtTime(s.SafeToRetireAt))
	}
	return true, ""
}

// completeWhenSafe waits for the retire watermark, then completes. A 409
// that still names the watermark (the server's clock is behind this one)
// is waited out too, up to the same deadline.
func (c *cliClient) completeWhenSafe(ctx context.Context, cmd *cobra.Command, name string, mf *mutFlags) error {
	timeout := mf.waitTimeout
	deadline := time.Now().Add(timeout)
	said := ""
	for {
		s, _, err := c.GetService(ctx, name)
		if err != nil {
			return err
		}
		ok, why := retireSafe(s, time.Now())
		if ok {
			m, raw, err := c.Complete(ctx, name, api.ActionRequest{RequestMeta: mf.meta()}, mf.options())
			var ae *client.APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusConflict || !watermarkRefusal(ae) {
				return c.printed("complete", m, raw, err)
			}
			why = ae.Message
		}
		if time.Now().After(deadline) {
			return &exitError{code: client.ExitPrecondition, err: fmt.Errorf(
				"wait-safe: the retire watermark of %s did not pass within %s (%s); nothing was changed", trimName(name), timeout, why)}
		}
		if why != said {
			fmt.Fprintf(cmd.ErrOrStderr(), "waiting for the retire watermark: %s\n", why)
			said = why
		}
		if err := sleepCtx(ctx, gatePoll); err != nil {
			return err
		}
	}
}

// watermarkRefusal: a complete refused because the retire watermark has
// not passed yet.
func watermarkRefusal(ae *client.APIError) bool {
	s := ae.Service
	return s != nil && s.Retire != nil && (strings.Contains(ae.Message, "safe_to_retire_at") || strings.Contains(ae.Message, "confirmed applying"))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
