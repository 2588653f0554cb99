package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/control"
)

// safetyFlags are the health check, validation and safety flags of
// service put. Only the flags given change what a -f file says.
type safetyFlags struct {
	hcType, hcPath, hcHost    string
	hcPort                    int
	hcInterval, hcTimeout     time.Duration
	hcRise, hcFall, hcExpect  int
	window, minSwitchInterval time.Duration
	autoRollback, failClosed  bool
	frozen                    bool
	minHealthy                int
}

func (s *safetyFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&s.hcType, "health-type", "", "health check: http, tcp, or none to remove it")
	fs.IntVar(&s.hcPort, "health-port", 0, "port probed on every address (1..65535)")
	fs.StringVar(&s.hcPath, "health-path", "", "http check path (default /)")
	fs.StringVar(&s.hcHost, "health-host", "", "http check Host header")
	fs.IntVar(&s.hcExpect, "health-expect-status", 0, "http status that counts as up (default any 2xx)")
	fs.DurationVar(&s.hcInterval, "health-interval", 0, "time between probes of one address (default 1s, at least 100ms)")
	fs.DurationVar(&s.hcTimeout, "health-timeout", 0, "timeout of one probe, below the interval (default half of it, at most 1s)")
	fs.IntVar(&s.hcRise, "health-rise", 0, "successes in a row to be marked up (1..10, default 2)")
	fs.IntVar(&s.hcFall, "health-fall", 0, "failures in a row to be marked down (1..10, default 2)")
	fs.IntVar(&s.minHealthy, "min-healthy", 0, "a switch needs this many healthy addresses in the new colour (default 1 with a health check)")
	fs.BoolVar(&s.failClosed, "fail-closed", false, "answer NODATA when no address is healthy (default: serve them all)")
	fs.DurationVar(&s.window, "validation-window", 0, "after a switch, validate the new colour this long (0 removes the window)")
	fs.BoolVar(&s.autoRollback, "auto-rollback", false, "roll back by itself when the new colour fails in the window")
	fs.DurationVar(&s.minSwitchInterval, "min-switch-interval", 0, "minimum time between switches of this service")
	fs.BoolVar(&s.frozen, "frozen", false, "refuse switches until unfrozen")
}

// apply writes the flags that were given over the service of a -f file.
func (s *safetyFlags) apply(f *pflag.FlagSet, in *api.ServicePut) {
	hcSet := false
	for _, n := range []string{"health-type", "health-port", "health-path", "health-host", "health-expect-status",
		"health-interval", "health-timeout", "health-rise", "health-fall"} {
		hcSet = hcSet || f.Changed(n)
	}
	if hcSet {
		hc := &api.HealthCheck{}
		if in.HealthCheck != nil {
			*hc = *in.HealthCheck
		}
		set := func(name string, fn func()) {
			if f.Changed(name) {
				fn()
			}
		}
		set("health-type", func() { hc.Type = s.hcType })
		set("health-port", func() { hc.Port = s.hcPort })
		set("health-path", func() { hc.Path = s.hcPath })
		set("health-host", func() { hc.Host = s.hcHost })
		set("health-expect-status", func() { hc.ExpectStatus = s.hcExpect })
		set("health-interval", func() { hc.Interval = control.Duration(s.hcInterval) })
		set("health-timeout", func() { hc.Timeout = control.Duration(s.hcTimeout) })
		set("health-rise", func() { hc.Rise = s.hcRise })
		set("health-fall", func() { hc.Fall = s.hcFall })
		in.HealthCheck = hc
		if strings.EqualFold(hc.Type, "none") {
			in.HealthCheck = nil
		}
	}
	if f.Changed("validation-window") || f.Changed("auto-rollback") {
		v := &api.Validation{}
		if in.Validation != nil {
			*v = *in.Validation
		}
		if f.Changed("validation-window") {
			v.Window = control.Duration(s.window)
		}
		if f.Changed("auto-rollback") {
			v.AutoRollback = s.autoRollback
		}
		in.Validation = v
		if v.Window == 0 && f.Changed("validation-window") {
			in.Validation = nil
		}
	}
	if f.Changed("min-healthy") {
		in.MinHealthy = s.minHealthy
	}
	if f.Changed("fail-closed") {
		in.FailClosed = s.failClosed
	}
	if f.Changed("min-switch-interval") {
		in.MinSwitchInterval = control.Duration(s.minSwitchInterval)
	}
	if f.Changed("frozen") {
		in.Frozen = s.frozen
	}
}

// newFreezeCmd is freeze or unfreeze of a service or, with --zone, a zone.
func newFreezeCmd(cf *clientFlags, verb, short string) *cobra.Command {
	var (
		mf   mutFlags
		zone bool
	)
	cmd := &cobra.Command{
		Use:   verb + " NAME",
		Short: short,
		Example: fmt.Sprintf(`  bgdns %s api.bg.example.com --reason "release freeze"
  bgdns %s bg.example.com --zone`, verb, verb),
		Args: exactArgs(1, "the service (or, with --zone, zone) NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := servicePath(args[0])
			if zone {
				path = zonePath(args[0])
			}
			body := api.ActionRequest{RequestMeta: mf.meta()}
			return runMutation(cf, cmd, &mf, verb, http.MethodPost, path+"/"+verb, body)
		},
	}
	cmd.Flags().BoolVar(&zone, "zone", false, "NAME is a zone: every service in it")
	mf.register(cmd.Flags(), true)
	return cmd
}

// registerForce adds --force to a switch or complete.
func registerForce(fs *pflag.FlagSet, mf *mutFlags) {
	fs.BoolVar(&mf.force, "force", false, "override the safety rules (freeze, interval, min_healthy, retire watermark); needs --reason")
}

// healthSummary is "healthy/total" of the active colour, "" without a check.
func healthSummary(s *api.Service) string {
	if s.Health == nil {
		return ""
	}
	h := s.Health.Blue
	if s.Active == "green" {
		h = s.Health.Green
	}
	if h == nil {
		return ""
	}
	return fmt.Sprintf("%d/%d", h.Healthy, h.Total)
}

// printSafety writes a service's health check, safety settings and the
// committed health of each address, when it has any.
func printSafety(w io.Writer, s *api.Service) {
	if s.HealthCheck == nil && s.Validation == nil && s.MinSwitchInterval == 0 && !s.Frozen && s.SafeToRetireAt.IsZero() && s.Retire == nil {
		return
	}
	fmt.Fprintln(w)
	tw := newTable(w)
	if hc := s.HealthCheck; hc != nil {
		target := fmt.Sprintf("%s :%d%s", hc.Type, hc.Port, hc.Path)
		if hc.Host != "" {
			target += " host " + hc.Host
		}
		row(tw, "HEALTH CHECK", fmt.Sprintf("%s every %s (timeout %s, rise %d, fall %d)", target, hc.Interval, hc.Timeout, hc.Rise, hc.Fall))
		row(tw, "MIN HEALTHY", s.MinHealthy)
		if s.FailClosed {
			row(tw, "NONE HEALTHY", "NODATA (fail closed)")
		}
	}
	if v := s.Validation; v != nil {
		auto := "manual rollback"
		if v.AutoRollback {
			auto = "auto rollback"
		}
		row(tw, "VALIDATION", fmt.Sprintf("%s, %s", v.Window, auto))
	}
	if s.MinSwitchInterval > 0 {
		row(tw, "MIN INTERVAL", s.MinSwitchInterval.String())
	}
	if s.Frozen {
		row(tw, "FROZEN", "yes: switches refused until unfrozen")
	}
	if !s.LastSwitchAt.IsZero() {
		row(tw, "LAST SWITCH", fmtTime(s.LastSwitchAt))
	}
	if !s.ValidatingUntil.IsZero() && s.State == "validating" {
		row(tw, "VALIDATING UNTIL", fmtTime(s.ValidatingUntil))
	}
	if !s.ValidatedAt.IsZero() {
		row(tw, "VALIDATED", fmtTime(s.ValidatedAt))
	}
	switch rt := s.Retire; {
	case !s.SafeToRetireAt.IsZero():
		row(tw, "SAFE TO RETIRE", fmtTime(s.SafeToRetireAt))
	case rt != nil && len(rt.WaitingFor) > 0:
		row(tw, "SAFE TO RETIRE", fmt.Sprintf("not yet: waiting for %s to confirm the switch at index %d",
			strings.Join(rt.WaitingFor, ", "), rt.SwitchIndex))
	case rt != nil:
		row(tw, "SAFE TO RETIRE", fmt.Sprintf("not yet: waiting for every node to confirm the switch at index %d", rt.SwitchIndex))
	}
	tw.Flush()
	if s.Health == nil {
		return
	}
	fmt.Fprintln(w)
	tw = newTable(w)
	row(tw, "COLOUR", "ADDRESS", "HEALTH", "SINCE", "DETAIL")
	for _, c := range []struct {
		name string
		h    *api.ColourHealth
	}{{"blue", s.Health.Blue}, {"green", s.Health.Green}} {
		if c.h == nil {
			continue
		}
		for _, a := range c.h.Addresses {
			row(tw, c.name, a.Address, a.Status, fmtTime(a.Since), a.Detail)
		}
		row(tw, c.name, "", fmt.Sprintf("%d/%d healthy", c.h.Healthy, c.h.Total), "", "")
	}
	tw.Flush()
}

func anyHealthCheck(svcs []*api.Service) bool {
	for _, s := range svcs {
		if s.Health != nil {
			return true
		}
	}
	return false
}

// printServicesHealth is the services summary with the healthy count of
// each active colour.
func printServicesHealth(w io.Writer, svcs []*api.Service) {
	tw := newTable(w)
	row(tw, "NAME", "ACTIVE", "VERSION", "STATE", "REVISION", "TTL", "BLUE", "GREEN", "HEALTHY")
	for _, s := range svcs {
		row(tw, s.Name, s.Active, activeVersion(s), s.State, s.Revision, s.TTL, poolVersion(s.Blue), poolVersion(s.Green), healthSummary(s))
	}
	tw.Flush()
}
