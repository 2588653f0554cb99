package main

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/api"
)

func newZoneCmd(cf *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "zone",
		Short: "Create, read, list and delete zones",
		Args:  noSubcommand,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newZoneListCmd(cf), newZoneGetCmd(cf), newZonePutCmd(cf), newZoneDeleteCmd(cf))
	return cmd
}

func newZoneListCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List zones",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			zs, raw, err := c.Zones(cmd.Context())
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			printZones(c.stdout, zs)
			return nil
		},
	}
}

func newZoneGetCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get ZONE",
		Short: "Show one zone",
		Args:  exactArgs(1, "the ZONE name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			z, raw, err := c.GetZone(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
			} else {
				printZone(c.stdout, z)
			}
			return nil
		},
	}
}

func newZonePutCmd(cf *clientFlags) *cobra.Command {
	var (
		mf   mutFlags
		file string
		ns   []string
		glue []string
		soa  api.SOA

		allowLoopback bool
	)
	cmd := &cobra.Command{
		Use:   "put ZONE",
		Short: "Create or replace a zone (SOA fields, NS names, glue)",
		Example: `  bgdns zone put bg.example.com --ns ns1.bg.example.com,ns2.bg.example.com \
    --glue ns1.bg.example.com=192.0.2.53,2001:db8::53 --glue ns2.bg.example.com=192.0.2.54 --soa-minimum 30`,
		Args: exactArgs(1, "the ZONE name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in api.ZonePut
			if file != "" {
				if err := readInputFile(cmd, file, &in); err != nil {
					return err
				}
			}
			f := cmd.Flags()
			if f.Changed("ns") {
				in.NS = ns
			}
			if f.Changed("glue") {
				g, err := parseGlue(glue)
				if err != nil {
					return err
				}
				in.Glue = g
			}
			if in.SOA == nil {
				in.SOA = &api.SOA{}
			}
			s := in.SOA
			setIf := func(name string, dst *uint32, v uint32) {
				if f.Changed(name) {
					*dst = v
				}
			}
			if f.Changed("soa-mname") {
				s.MName = soa.MName
			}
			if f.Changed("soa-rname") {
				s.RName = soa.RName
			}
			setIf("soa-refresh", &s.Refresh, soa.Refresh)
			setIf("soa-retry", &s.Retry, soa.Retry)
			setIf("soa-expire", &s.Expire, soa.Expire)
			setIf("soa-minimum", &s.Minimum, soa.Minimum)
			setIf("soa-ttl", &s.TTL, soa.TTL)
			if f.Changed("allow-loopback") {
				in.AllowLoopback = allowLoopback
			}
			if mf.requestID == "" {
				mf.requestID = in.RequestID // the file's, if any
			}
			mergeMeta(&in.RequestMeta, mf.meta())
			return runMutation(cf, cmd, &mf, "zone put", http.MethodPut, zonePath(args[0]), in)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&file, "file", "f", "", "read the zone JSON from FILE (- for stdin); flags override it")
	fs.StringSliceVar(&ns, "ns", nil, "NS host names (comma-separated or repeated; default ns1.ZONE), or auto: the members' --ns-name, with glue from their DNS addresses")
	fs.StringArrayVar(&glue, "glue", nil, "glue for an in-zone NS host: HOST=ADDR[,ADDR] (repeat per host)")
	fs.StringVar(&soa.MName, "soa-mname", "", "SOA primary name server (default ns1.ZONE)")
	fs.StringVar(&soa.RName, "soa-rname", "", "SOA responsible mailbox (default hostmaster.ZONE)")
	fs.Uint32Var(&soa.Refresh, "soa-refresh", 0, "SOA refresh in seconds")
	fs.Uint32Var(&soa.Retry, "soa-retry", 0, "SOA retry in seconds")
	fs.Uint32Var(&soa.Expire, "soa-expire", 0, "SOA expire in seconds")
	fs.Uint32Var(&soa.Minimum, "soa-minimum", 0, "SOA minimum: negative-caching TTL in seconds")
	fs.Uint32Var(&soa.TTL, "soa-ttl", 0, "TTL of the SOA and NS records in seconds")
	fs.BoolVar(&allowLoopback, "allow-loopback", false, "let the zone's pools hold loopback addresses (127.0.0.0/8, ::1), for local tests")
	mf.register(fs, true)
	return cmd
}

// parseGlue reads HOST=ADDR[,ADDR] values.
func parseGlue(in []string) (map[string][]string, error) {
	out := make(map[string][]string, len(in))
	for _, v := range in {
		host, addrs, ok := strings.Cut(v, "=")
		host = strings.TrimSpace(host)
		if !ok || host == "" || strings.TrimSpace(addrs) == "" {
			return nil, fmt.Errorf("--glue %q: want HOST=ADDR[,ADDR]", v)
		}
		for _, a := range strings.Split(addrs, ",") {
			if a = strings.TrimSpace(a); a != "" {
				out[host] = append(out[host], a)
			}
		}
	}
	return out, nil
}

func newZoneDeleteCmd(cf *clientFlags) *cobra.Command {
	var mf mutFlags
	cmd := &cobra.Command{
		Use:   "delete ZONE",
		Short: "Delete a zone that has no services left",
		Args:  exactArgs(1, "the ZONE name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMutation(cf, cmd, &mf, "zone delete", http.MethodDelete, zonePath(args[0]), api.ActionRequest{RequestMeta: mf.meta()})
		},
	}
	mf.register(cmd.Flags(), true)
	return cmd
}
