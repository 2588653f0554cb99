package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// newServiceSetCmd is `bgdns service set`: PATCH with only the fields given.
func newServiceSetCmd(cf *clientFlags) *cobra.Command {
	var (
		mf                        mutFlags
		ttl                       uint32
		blue, green               []string
		blueVersion, greenVersion string
		active                    string
		noTXT                     bool
		sf                        safetyFlags
	)
	cmd := &cobra.Command{
		Use:   "set NAME --FIELD VALUE...",
		Short: "Change only the given fields of a service",
		Long: `Change only the given fields of a service (a JSON merge patch): every
other field keeps its value. A change of --active goes through the same
gates as a switch (freeze, health, minimum interval; --force with a
--reason overrides them) and is recorded as a switch.`,
		Example: `  bgdns service set api.bg.example.com --ttl 30
  bgdns service set api.bg.example.com --min-healthy 2 --health-port 8081`,
		Args: exactArgs(1, "the service NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			patch := map[string]any{}
			if f.Changed("ttl") {
				patch["ttl"] = ttl
			}
			if f.Changed("active") {
				patch["active"] = strings.ToLower(strings.TrimSpace(active))
			}
			if f.Changed("no-txt") {
				patch["no_txt"] = noTXT
			}
			poolPatch(patch, "blue", f.Changed("blue"), blue, f.Changed("blue-version"), blueVersion)
			poolPatch(patch, "green", f.Changed("green"), green, f.Changed("green-version"), greenVersion)
			sf.patch(f, patch)
			if len(patch) == 0 {
				return fmt.Errorf("service set needs at least one field to change; see --help")
			}
			if mf.reason != "" {
				patch["reason"] = mf.reason
			}
			if mf.expectRevision != 0 {
				patch["expect_revision"] = mf.expectRevision
			}
			if mf.force {
				patch["force"] = true
			}
			patch["request_id"] = mf.id()
			return withClient(cf, cmd, func(ctx context.Context, c *cliClient) error {
				m, raw, err := c.PatchService(ctx, args[0], patch, mf.options())
				return c.printed("set", m, raw, err)
			})
		},
	}
	fs := cmd.Flags()
	fs.Uint32Var(&ttl, "ttl", 0, "TTL of the answers in seconds")
	fs.StringSliceVar(&blue, "blue", nil, "blue addresses (comma-separated or repeated)")
	fs.StringVar(&blueVersion, "blue-version", "", "blue version")
	fs.StringSliceVar(&green, "green", nil, "green addresses (comma-separated or repeated)")
	fs.StringVar(&greenVersion, "green-version", "", "green version")
	fs.StringVar(&active, "active", "", "active colour (a switch, through its gates)")
	fs.BoolVar(&noTXT, "no-txt", false, "do not publish the _bgdns TXT record")
	sf.register(fs)
	mf.register(fs, true)
	registerForce(fs, &mf)
	return cmd
}

// poolPatch adds the given fields of one colour's pool to patch.
func poolPatch(patch map[string]any, colour string, addrsSet bool, addrs []string, versionSet bool, version string) {
	if !addrsSet && !versionSet {
		return
	}
	p := map[string]any{}
	if addrsSet {
		if addrs == nil {
			addrs = []string{}
		}
		p["addresses"] = addrs
	}
	if versionSet {
		p["version"] = version
	}
	patch[colour] = p
}

// patch adds the safety flags that were given to a merge patch: nested
// objects carry only the fields given; --health-type none and
// --validation-window 0 remove the object (null).
func (s *safetyFlags) patch(f *pflag.FlagSet, patch map[string]any) {
	hc := map[string]any{}
	set := func(flag, key string, v any) {
		if f.Changed(flag) {
			hc[key] = v
		}
	}
	set("health-type", "type", s.hcType)
	set("health-port", "port", s.hcPort)
	set("health-path", "path", s.hcPath)
	set("health-host", "host", s.hcHost)
	set("health-expect-status", "expect_status", s.hcExpect)
	set("health-interval", "interval", s.hcInterval.String())
	set("health-timeout", "timeout", s.hcTimeout.String())
	set("health-rise", "rise", s.hcRise)
	set("health-fall", "fall", s.hcFall)
	switch {
	case f.Changed("health-type") && strings.EqualFold(s.hcType, "none"):
		patch["health_check"] = nil
	case len(hc) > 0:
		patch["health_check"] = hc
	}
	switch {
	case f.Changed("validation-window") && s.window == 0:
		patch["validation"] = nil
	case f.Changed("validation-window") || f.Changed("auto-rollback"):
		v := map[string]any{}
		if f.Changed("validation-window") {
			v["window"] = s.window.String()
		}
		if f.Changed("auto-rollback") {
			v["auto_rollback"] = s.autoRollback
		}
		patch["validation"] = v
	}
	if f.Changed("min-healthy") {
		patch["min_healthy"] = s.minHealthy
	}
	if f.Changed("fail-closed") {
		patch["fail_closed"] = s.failClosed
	}
	if f.Changed("min-switch-interval") {
		patch["min_switch_interval"] = s.minSwitchInterval.String()
	}
	if f.Changed("frozen") {
		patch["frozen"] = s.frozen
	}
}
