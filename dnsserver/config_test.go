package dnsserver

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestParseTSIGKey(t *testing.T) {
	k, err := ParseTSIGKey("HMAC-SHA256:Xfr-Key:" + testKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "xfr-key." || k.Algorithm != dns.HmacSHA256 || k.Secret != testKeySecret {
		t.Fatalf("%+v", k)
	}
	for _, bad := range []string{
		"xfr-key:" + testKeySecret,
		"hmac-md5:k:" + testKeySecret,
		"hmac-sha256::" + testKeySecret,
		"hmac-sha256:k:",
		"hmac-sha256:k:%%%notbase64-topsecret",
	} {
		_, err := ParseTSIGKey(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "topsecret") || strings.Contains(err.Error(), testKeySecret) {
			t.Errorf("error for %q shows the secret: %v", bad, err)
		}
	}
	if _, err := parseKeys([]string{testKey, testKey}); err == nil {
		t.Error("a key given twice was accepted")
	}
}

func TestConfigDefaultsAndLists(t *testing.T) {
	c := Config{}.withDefaults()
	if c.UDPSize != 1232 || c.TCPIdleTimeout != DefaultTCPIdleTimeout || c.MaxTCPConns != 256 ||
		c.MaxTCPQueries != 100 || c.Logger == nil || c.RRLRate != 200 {
		t.Fatalf("defaults: %+v", c)
	}
	if c := (Config{UDPSize: 100}).withDefaults(); c.UDPSize != 512 {
		t.Fatalf("udp size below 512 kept: %d", c.UDPSize)
	}
	p, err := parsePrefixes([]string{"10.1.2.3/8", "192.0.2.7", "2001:db8::/32", "::ffff:192.0.2.9"})
	if err != nil || len(p) != 4 || p[0].String() != "10.0.0.0/8" || p[1].Bits() != 32 || p[3].String() != "192.0.2.9/32" {
		t.Fatalf("prefixes %v %v", p, err)
	}
	tg, err := parseTargets([]string{"127.0.0.1:53", "[::1]:5300"})
	if err != nil || len(tg) != 2 || tg[1].Port() != 5300 {
		t.Fatalf("targets %v %v", tg, err)
	}
	if err := (Config{Addr: "127.0.0.1:53", RRLSlip: -1}).Validate(); err == nil {
		t.Fatal("negative slip accepted")
	}
	if err := (Config{Addr: "127.0.0.1:53", RRLRate: -1}).Validate(); err != nil {
		t.Fatalf("rate limiting off refused: %v", err)
	}
}

// TestRateLimitingOnByDefault: a server of the zero Config limits at
// NSD's 200 responses per second per prefix; a negative rate turns it off.
func TestRateLimitingOnByDefault(t *testing.T) {
	src := newTestSource(t)
	if s := New(Config{}, src); s.rrl == nil || s.rrl.rate != DefaultRRLRate || DefaultRRLRate != 200 {
		t.Fatalf("default limiter %+v, want 200 per second", s.rrl)
	}
	if s := New(Config{RRLRate: -1}, src); s.rrl != nil {
		t.Fatal("limiter on with a negative rate")
	}
}
