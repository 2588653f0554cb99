//go:build interop

package interop

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/dnsserver"
)

// check is one protocol rule checked with dig or kdig against a running
// bgdns; want returns "" when the output is right, else what is wrong.
type check struct {
	rule string
	tool string // "dig" or "kdig"
	args []string
	want func(out string) string
}

func expect(conds ...func(string) string) func(string) string {
	return func(out string) string {
		for _, c := range conds {
			if msg := c(out); msg != "" {
				return msg
			}
		}
		return ""
	}
}

func hasStatus(s string) func(string) string {
	return func(out string) string {
		if got := status(out); got != s {
			return fmt.Sprintf("status %q, want %s", got, s)
		}
		return ""
	}
}

func hasFlag(f string, set bool) func(string) string {
	return func(out string) string {
		if flags(out)[f] != set {
			return fmt.Sprintf("flag %s set=%v, want %v", f, !set, set)
		}
		return ""
	}
}

func matches(re string) func(string) string {
	r := regexp.MustCompile(re)
	return func(out string) string {
		if !r.MatchString(out) {
			return fmt.Sprintf("output does not match %s", re)
		}
		return ""
	}
}

func lacks(re string) func(string) string {
	r := regexp.MustCompile(re)
	return func(out string) string {
		if r.MatchString(out) {
			return fmt.Sprintf("output matches %s", re)
		}
		return ""
	}
}

func TestProtocolRulesWithDigAndKdig(t *testing.T) {
	tool(t, "dig")
	tool(t, "kdig")
	t.Logf("peers: %s; %s", version(t, "dig", "-v"), version(t, "kdig", "-V"))
	n, addr, _ := startBGDNS(t, dnsserver.Config{NodeID: "n1", XFRKeys: []string{keySpec}})
	// a service whose AAAA answer does not fit in a UDP reply
	var pool []netip.Addr
	for i := range 64 {
		pool = append(pool, netip.MustParseAddr(fmt.Sprintf("2001:db8:1::%x", i+1)))
	}
	n.apply(t, control.Command{Op: control.OpServicePut, Name: "big." + zone, Service: &control.ServiceSpec{
		Blue: &control.Pool{Version: "1", Addresses: pool},
	}})
	// services enough for a zone transfer of several messages, so that
	// the peers check the TSIG chain across messages
	for s := range 5 {
		var blue, green []netip.Addr
		for i := range 64 {
			blue = append(blue, netip.MustParseAddr(fmt.Sprintf("2001:db8:%x::%x", s+16, i+1)))
			green = append(green, netip.MustParseAddr(fmt.Sprintf("2001:db8:%x:1::%x", s+16, i+1)))
		}
		n.apply(t, control.Command{Op: control.OpServicePut, Name: fmt.Sprintf("wide%d.%s", s, zone), Service: &control.ServiceSpec{
			Blue: &control.Pool{Version: "1", Addresses: blue}, Green: &control.Pool{Version: "2", Addresses: green},
		}})
	}
	serial := n.State().Zone(zone).Serial
	key := "hmac-sha256:" + keyName + ":" + keySecret
	big := "big." + zone

	checks := []check{
		{"AA on an authoritative answer, RA never", "dig", []string{svc, "A", "+norecurse"},
			expect(hasStatus("NOERROR"), hasFlag("aa", true), hasFlag("ra", false), matches(`(?m)^api\.bg\.example\.test\.\s+2\s+IN\s+A\s+10\.0\.0\.11$`))},
		{"RD asked: still no recursion, RA clear", "kdig", []string{svc, "A", "+recurse"},
			expect(hasStatus("NOERROR"), hasFlag("aa", true), hasFlag("ra", false))},
		{"NXDOMAIN with the SOA, TTL = SOA minimum", "kdig", []string{"nope." + zone, "A"},
			expect(hasStatus("NXDOMAIN"), hasFlag("aa", true), matches(`(?m)^bg\.example\.test\.\s+30\s+IN\s+SOA\s`))},
		{"NODATA with the SOA", "dig", []string{svc, "TXT"},
			expect(hasStatus("NOERROR"), hasFlag("aa", true), matches(`ANSWER: 0`), matches(`(?m)^bg\.example\.test\.\s+30\s+IN\s+SOA\s`))},
		{"NODATA for a colour without a pool's family", "dig", []string{"blue." + svc, "AAAA"},
			expect(hasStatus("NOERROR"), matches(`ANSWER: 0`), matches(`AUTHORITY: 1`))},
		{"preview answers the idle colour", "dig", []string{"preview." + svc, "A"},
			expect(hasStatus("NOERROR"), matches(`(?m)^preview\.api\.bg\.example\.test\.\s+2\s+IN\s+A\s+10\.0\.0\.21$`))},
		{"_bgdns TXT", "kdig", []string{"_bgdns." + svc, "TXT"},
			expect(hasStatus("NOERROR"), matches(regexp.QuoteMeta(`"`+dnsserver.TXTValue(n.State().Service(svc))+`"`)))},
		{"apex NS with glue", "dig", []string{zone, "NS"},
			expect(hasStatus("NOERROR"), hasFlag("aa", true), matches(`(?m)^bg\.example\.test\.\s+3600\s+IN\s+NS\s+ns1\.bg\.example\.test\.$`),
				matches(`(?s)ADDITIONAL SECTION:.*ns1\.bg\.example\.test\.\s+3600\s+IN\s+A\s+127\.0\.0\.1`))},
		{"apex SOA carries the serial", "kdig", []string{zone, "SOA"},
			expect(hasStatus("NOERROR"), matches(`IN\s+SOA\s+ns1\.bg\.example\.test\.\s+hostmaster\.bg\.example\.test\.\s+`+strconv.FormatUint(uint64(serial), 10)+`\s`))},
		{"REFUSED outside our zones", "dig", []string{"example.com.", "A"},
			expect(hasStatus("REFUSED"), hasFlag("aa", false), hasFlag("ra", false), matches(`ANSWER: 0`))},
		{"case-insensitive, the query's case echoed", "dig", []string{"API.Bg.Example.TEST.", "A"},
			expect(hasStatus("NOERROR"), matches(`(?m)^API\.Bg\.Example\.TEST\.\s+2\s+IN\s+A\s+10\.0\.0\.11$`))},
		{"ANY answered minimally (RFC 8482)", "dig", []string{svc, "ANY"},
			expect(hasStatus("NOERROR"), matches(`ANSWER: 1,`))},
		{"NOTIMP for UPDATE", "dig", []string{"+opcode=update", zone, "SOA"},
			expect(hasStatus("NOTIMP"))},
		{"FORMERR for a query without a question", "dig", []string{"+header-only", zone},
			expect(hasStatus("FORMERR"))},
		{"no EDNS in the reply to a query without it", "dig", []string{"+noedns", svc, "A"},
			expect(hasStatus("NOERROR"), lacks(`OPT PSEUDOSECTION`))},
		{"EDNS: 1232 advertised whatever the client offers", "dig", []string{"+bufsize=4096", svc, "A"},
			expect(hasStatus("NOERROR"), matches(`udp: 1232`))},
		{"BADVERS for EDNS version 1", "dig", []string{"+edns=1", "+noednsneg", svc, "A"},
			expect(hasStatus("BADVERS"), matches(`EDNS: version: 0`))},
		{"NSID answers the node id", "dig", []string{"+nsid", svc, "A"},
			expect(hasStatus("NOERROR"), matches(`NSID: 6e 31 \("n1"\)`))},
		{"NSID with kdig", "kdig", []string{"+nsid", svc, "A"},
			expect(hasStatus("NOERROR"), matches(`NSID: 6e31 "n1"|NSID: n1|NSID: 6E31`))},
		{"CHAOS id.server", "dig", []string{"+short", "CH", "TXT", "id.server."},
			expect(matches(`^"n1"\s*$`))},
		{"CHAOS hostname.bind", "kdig", []string{"CH", "TXT", "hostname.bind."},
			expect(hasStatus("NOERROR"), matches(`hostname\.bind\.\s+0\s+CH\s+TXT\s+"n1"`))},
		{"version.bind refused", "dig", []string{"CH", "TXT", "version.bind."},
			expect(hasStatus("REFUSED"))},
		{"TC=1 without EDNS when the answer does not fit 512", "dig", []string{"+noedns", "+ignore", big, "AAAA"},
			expect(hasFlag("tc", true), matches(`MSG SIZE\s+rcvd: ([1-4]\d\d|50\d|51[0-2])\b`))},
		{"TC=1 with EDNS 1232", "kdig", []string{"+notcp", "+ignore", "+bufsize=1232", big, "AAAA"},
			expect(hasFlag("tc", true))},
		{"the full answer over TCP, same port", "dig", []string{"+tcp", big, "AAAA"},
			expect(hasStatus("NOERROR"), hasFlag("tc", false), matches(`ANSWER: 64,`))},
		{"a truncated answer is retried over TCP by dig", "dig", []string{big, "AAAA"},
			expect(matches(`Truncated, retrying in TCP mode`), matches(`ANSWER: 64,`))},
		{"several queries on one TCP connection", "kdig", []string{"+tcp", "+keepopen", svc, "A", "blue." + svc, "A", zone, "SOA"},
			expect(matches(`(?s)10\.0\.0\.11.*10\.0\.0\.11.*SOA`))},
		{"AXFR with TSIG", "kdig", []string{"-y", key, "AXFR", zone},
			expect(matches(`(?m)^api\.bg\.example\.test\.\s+2\s+IN\s+A\s+10\.0\.0\.11$`),
				matches(`(?m)^green\.api\.bg\.example\.test\.\s+2\s+IN\s+AAAA\s+2001:db8::21$`),
				matches(`(?m)^big\.bg\.example\.test\.\s+5\s+IN\s+AAAA\s+2001:db8:1::40$`),
				lacks(`(?i)failed|\berror\b`))},
		{"AXFR with TSIG (dig verifies every message)", "dig", []string{"-y", key, "AXFR", zone},
			expect(matches(`XFR size: \d+ records`), matches(`messages [3-9]`), lacks(`(?i)failed|verify failure|\berror\b`))},
		{"AXFR from a stranger REFUSED", "kdig", []string{"AXFR", zone},
			expect(matches(`(?i)refused`), lacks(`IN\s+A\s+10\.0\.0\.11`))},
		{"AXFR with a wrong key refused", "kdig", []string{"-y", "hmac-sha256:" + keyName + ":d3Jvbmd3cm9uZ3dyb25nd3Jvbmc=", "AXFR", zone},
			expect(lacks(`IN\s+A\s+10\.0\.0\.11`))},
		{"IXFR from an old serial falls back to the whole zone", "dig", []string{"-y", key, "IXFR=1", zone},
			expect(matches(`(?m)^api\.bg\.example\.test\.\s+2\s+IN\s+A\s+10\.0\.0\.11$`), lacks(`(?i)failed`))},
		{"IXFR at the current serial: the SOA alone", "dig", []string{"-y", key, "+tcp", fmt.Sprintf("IXFR=%d", serial), zone},
			expect(lacks(`IN\s+A\s+10\.0\.0\.11`), matches(`IN\s+SOA`))},
	}
	for _, c := range checks {
		t.Run(c.rule, func(t *testing.T) {
			var out string
			if c.tool == "kdig" {
				out = kdig(t, addr, c.args...)
			} else {
				out = dig(t, addr, c.args...)
			}
			if msg := c.want(out); msg != "" {
				t.Errorf("%s %s: %s\n%s", c.tool, strings.Join(c.args, " "), msg, tail([]byte(out), 1500))
			}
		})
	}

	t.Run("SOA serial increases with every change", func(t *testing.T) {
		before := fieldN(short(t, addr, zone, "SOA"), 2)
		n.apply(t, control.Command{Op: control.OpSwitch, Name: svc})
		after := fieldN(short(t, addr, zone, "SOA"), 2)
		b, _ := strconv.ParseUint(before, 10, 32)
		a, _ := strconv.ParseUint(after, 10, 32)
		if a <= b {
			t.Fatalf("serial %s -> %s", before, after)
		}
		if got := short(t, addr, svc, "A"); got != greenAddr {
			t.Fatalf("after the switch: %q", got)
		}
	})
	t.Run("SERVFAIL from a node that is not serving, outside its zones too", func(t *testing.T) {
		n.serving.Store(false)
		defer n.serving.Store(true)
		if out := dig(t, addr, svc, "A"); status(out) != "SERVFAIL" || strings.Contains(out, "10.0.0.") {
			t.Fatalf("node not serving:\n%s", out)
		}
		// until it has caught up it may not know all its zones: never
		// REFUSED (which tells a resolver the server is lame for the zone)
		if out := dig(t, addr, "example.com.", "A"); status(out) != "SERVFAIL" {
			t.Fatalf("outside while not serving:\n%s", out)
		}
		n.serving.Store(true)
		if out := dig(t, addr, "example.com.", "A"); status(out) != "REFUSED" {
			t.Fatalf("outside while serving:\n%s", out)
		}
	})
}

// TestRateLimitWithDig: with a limit of one response per second and slip 1,
// a burst of queries from one address gets truncated replies beyond the
// first (dig retries them over TCP, which is never limited).
func TestRateLimitWithDig(t *testing.T) {
	_, addr, _ := startBGDNS(t, dnsserver.Config{RRLRate: 1, RRLSlip: 1})
	answered, truncated := 0, 0
	for range 10 {
		out := dig(t, addr, "+ignore", svc, "A")
		switch {
		case flags(out)["tc"]:
			truncated++
		case strings.Contains(out, "10.0.0.11"):
			answered++
		}
	}
	// ten runs of dig span at most a couple of seconds
	if answered < 1 || truncated < 1 || answered > 3 {
		t.Fatalf("10 queries at 1/s: %d answered, %d truncated", answered, truncated)
	}
	if out := dig(t, addr, svc, "A"); !strings.Contains(out, "10.0.0.11") {
		t.Fatalf("a limited client retrying over TCP still gets the answer:\n%s", out)
	}
}
