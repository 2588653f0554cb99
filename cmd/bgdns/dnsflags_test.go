package main

import (
	"testing"
	"time"

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
	if c.HideIdentity || c.MaxTCPConnsPerSource != 0 || c.MaxTCPConns != 256 || c.RRLRate != 200 {
		t.Errorf("defaults: %+v", c)
	}
	if c := parseDNSFlags(t, "--rrl-rate", "0"); c.RRLRate >= 0 {
		t.Errorf("--rrl-rate 0: Config.RRLRate %d, want rate limiting off (negative)", c.RRLRate)
	}
	if c.StaleTTL != time.Second {
		t.Errorf("--stale-ttl default %v, want 1s", c.StaleTTL)
	}
	if c := parseDNSFlags(t, "--stale-ttl", "5s"); c.StaleTTL != 5*time.Second {
		t.Errorf("--stale-ttl 5s: %v", c.StaleTTL)
	}
	if c := parseDNSFlags(t, "--rrl-rate", "50"); c.RRLRate != 50 {
		t.Errorf("--rrl-rate 50: %d", c.RRLRate)
	}
	c = parseDNSFlags(t, "--hide-identity", "--max-tcp-conns", "100", "--max-tcp-conns-per-source", "10")
	if !c.HideIdentity || c.MaxTCPConns != 100 || c.MaxTCPConnsPerSource != 10 {
		t.Errorf("parsed: %+v", c)
	}
}
