package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// applyEnvAndConfig fills every flag the user did not set on the command
// line, first from BGDNS_<FLAG> in the environment (dashes become
// underscores), then from the YAML file named by --config (keys are flag
// names, with dashes or underscores). Command-line flags win.
func applyEnvAndConfig(cmd *cobra.Command, configPath string) error {
	fromFile := map[string]any{}
	if configPath != "" {
		b, err := os.ReadFile(configPath)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		if err := yaml.Unmarshal(b, &fromFile); err != nil {
			return fmt.Errorf("config %s: %w", configPath, err)
		}
	}
	known := map[string]bool{}
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		known[f.Name] = true
		if f.Changed || f.Name == "config" {
			return
		}
		env := "BGDNS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := setFlag(cmd, f, []string{v}); err != nil && firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", env, err)
			}
			return
		}
		v, ok := fromFile[f.Name]
		if !ok {
			v, ok = fromFile[strings.ReplaceAll(f.Name, "-", "_")]
		}
		if !ok {
			return
		}
		if err := setFlag(cmd, f, yamlValues(v)); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("config key %s: %w", f.Name, err)
		}
	})
	if firstErr != nil {
		return firstErr
	}
	for k := range fromFile {
		if !known[k] && !known[strings.ReplaceAll(k, "_", "-")] {
			return fmt.Errorf("config %s: unknown key %q", configPath, k)
		}
	}
	return nil
}

func setFlag(cmd *cobra.Command, f *pflag.Flag, values []string) error {
	sv, isSlice := f.Value.(pflag.SliceValue)
	if isSlice {
		var all []string
		for _, v := range values {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					all = append(all, p)
				}
			}
		}
		return sv.Replace(all)
	}
	if len(values) != 1 {
		return fmt.Errorf("takes one value")
	}
	return cmd.Flags().Set(f.Name, values[0])
}

func yamlValues(v any) []string {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	default:
		return []string{fmt.Sprint(x)}
	}
}
