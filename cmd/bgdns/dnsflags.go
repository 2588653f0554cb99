package main

import (
	"github.com/bgdns/bgdns/dnsserver"
	"github.com/spf13/pflag"
)

// addDNSFlags registers the nameserver's own options.
func addDNSFlags(f *pflag.FlagSet, c *dnsserver.Config) {
}
