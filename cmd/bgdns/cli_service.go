package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/api"
)

// maxInputFile bounds a -f file.
const maxInputFile = 1 << 20

func newServiceCmd(cf *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Create, change, read, list and delete services",
		Args:  noSubcommand,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newServicePutCmd(cf), newServiceSetCmd(cf), newServiceGetCmd(cf), newServiceListCmd(cf), newServiceDeleteCmd(cf))
	return cmd
}

// noSubcommand refuses an unknown subcommand of a command group.
func noSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unknown command %q for %q; see %s --help", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return nil
}

func newServicePutCmd(cf *clientFlags) *cobra.Command {
	var (
		mf                        mutFlags
		file                      string
		ttl                       uint32
		blue, green               []string
		blueVersion, greenVersion string
		active                    string
		noTXT                     bool
		sf                        safetyFlags
	)
	cmd := &cobra.Command{
		Use:   "put NAME",
		Short: "Create or replace a service",
		Example: `  bgdns service put api.bg.example.com --ttl 5 --blue 10.0.0.11,10.0.0.12 --blue-version 1.0
  bgdns service put api.bg.example.com -f service.json`,
		Args: exactArgs(1, "the service NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in api.ServicePut
			if file != "" {
				if err := readInputFile(cmd, file, &in); err != nil {
					return err
				}
			}
			f := cmd.Flags()
			if f.Changed("ttl") {
				in.TTL = ttl
			}
			if f.Changed("active") {
				in.Active = active
			}
			if f.Changed("no-txt") {
				in.NoTXT = noTXT
			}
			in.Blue = poolFlags(in.Blue, f.Changed("blue"), blue, f.Changed("blue-version"), blueVersion)
			in.Green = poolFlags(in.Green, f.Changed("green"), green, f.Changed("green-version"), greenVersion)
			sf.apply(f, &in)
			if in.Blue == nil && in.Green == nil {
				return fmt.Errorf("service put needs a pool: --blue ADDRS --blue-version V (or -f FILE)")
			}
			if mf.requestID == "" {
				mf.requestID = in.RequestID // the file's, if any
			}
			mergeMeta(&in.RequestMeta, mf.meta())
			return runMutation(cf, cmd, &mf, "put", http.MethodPut, servicePath(args[0]), in)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&file, "file", "f", "", "read the service JSON from FILE (- for stdin); flags override it")
	fs.Uint32Var(&ttl, "ttl", 0, "TTL of the answers in seconds (default 5)")
	fs.StringSliceVar(&blue, "blue", nil, "blue addresses (comma-separated or repeated)")
	fs.StringVar(&blueVersion, "blue-version", "", "blue version")
	fs.StringSliceVar(&green, "green", nil, "green addresses (comma-separated or repeated)")
	fs.StringVar(&greenVersion, "green-version", "", "green version")
	fs.StringVar(&active, "active", "", "active colour: blue (default) or green")
	fs.BoolVar(&noTXT, "no-txt", false, "do not publish the _bgdns TXT record")
	sf.register(fs)
	mf.register(fs, true)
	return cmd
}

// poolFlags applies --COLOUR and --COLOUR-version over a pool from a file.
func poolFlags(p *api.Pool, addrsSet bool, addrs []string, versionSet bool, version string) *api.Pool {
	if !addrsSet && !versionSet {
		return p
	}
	if p == nil {
		p = &api.Pool{}
	} else {
		c := *p
		p = &c
	}
	if addrsSet {
		p.Addresses = addrs
	}
	if versionSet {
		p.Version = version
	}
	if p.Addresses == nil {
		p.Addresses = []string{}
	}
	return p
}

// mergeMeta lets flags override the request fields of a file.
func mergeMeta(dst *api.RequestMeta, flags api.RequestMeta) {
	if flags.ExpectRevision != 0 {
		dst.ExpectRevision = flags.ExpectRevision
	}
	if flags.RequestID != "" {
		dst.RequestID = flags.RequestID
	}
	if flags.Reason != "" {
		dst.Reason = flags.Reason
	}
	dst.Wait = "" // the query says it
}

// readInputFile decodes a JSON file (or stdin for "-") strictly into v.
func readInputFile(cmd *cobra.Command, name string, v any) error {
	var r io.Reader
	if name == "-" {
		r = cmd.InOrStdin()
	} else {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInputFile+1))
	if err != nil {
		return err
	}
	if len(b) > maxInputFile {
		return fmt.Errorf("%s is larger than %d bytes", name, maxInputFile)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	return nil
}

func newServiceGetCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Show one service",
		Args:  exactArgs(1, "the service NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			s, raw, err := c.GetService(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
			} else {
				printService(c.stdout, s)
			}
			return nil
		},
	}
}

func newServiceListCmd(cf *clientFlags) *cobra.Command {
	var zone string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List services with their active colour, version and state",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			svcs, raw, err := c.Services(cmd.Context(), zone)
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			printServices(c.stdout, svcs)
			return nil
		},
	}
	cmd.Flags().StringVar(&zone, "zone", "", "only the services of this zone")
	return cmd
}

func newServiceDeleteCmd(cf *clientFlags) *cobra.Command {
	var mf mutFlags
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a service (its history is kept)",
		Args:  exactArgs(1, "the service NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMutation(cf, cmd, &mf, "delete", http.MethodDelete, servicePath(args[0]), api.ActionRequest{RequestMeta: mf.meta()})
		},
	}
	mf.register(cmd.Flags(), true)
	return cmd
}
