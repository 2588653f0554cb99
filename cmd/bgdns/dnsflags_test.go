package main

import (
	"testing"

	"github.com/bgdns/bgdns/dnsserver"
	"github.com/spf13/pflag"
)

func parseDNSFlags(t *testing.T, args ...string) dnsserver.Config {
	t.Helper()
	var c dnsserver.Config
	f := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	addDNSFlags(f, &c)
	if err := f.Parse(args); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDNSFlags(t *testing.T) {
	c := parseDNSFlags(t)
	if c.HideIdentity || c.MaxTCPConnsPerSource != 0 || c.MaxTCPConns != 256 {
		t.Errorf("defaults: %+v", c)
	}
	c = parseDNSFlags(t, "--hide-identity", "--max-tcp-conns", "100", "--max-tcp-conns-per-source", "10")
	if !c.HideIdentity || c.MaxTCPConns != 100 || c.MaxTCPConnsPerSource != 10 {
		t.Errorf("parsed: %+v", c)
	}
}
