//go:build interop

package interop

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/dnsserver"
)

// TestUnboundResolverThroughStub: an unbound resolver with a stub zone
// pointing at bgdns resolves the service, gets NXDOMAIN and NODATA right,
// and sees a switch within the service's TTL.
func TestUnboundResolverThroughStub(t *testing.T) {
	unbound := tool(t, "unbound")
	t.Logf("peer: %s", version(t, "unbound", "-V"))
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	n, _, bgPort := startBGDNS(t, dnsserver.Config{})

	conf := filepath.Join(dir, "unbound.conf")
	// The root is stubbed to bgdns too (which refuses it), so that the
	// resolver never sends a packet off this machine.
	writeFile(t, conf, fmt.Sprintf(`server:
	interface: 127.0.0.1@%[2]d
	port: %[2]d
	username: ""
	chroot: ""
	directory: "%[1]s"
	pidfile: "%[1]s/unbound.pid"
	do-daemonize: no
	use-syslog: no
	logfile: ""
	verbosity: 1
	num-threads: 1
	so-reuseport: no
	do-ip6: no
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	module-config: "iterator"
	prefetch: no
	serve-expired: no
	# unbound answers the special-use .test names itself unless told not to
	local-zone: "test." nodefault

remote-control:
	control-enable: no

stub-zone:
	name: "bg.example.test"
	stub-addr: 127.0.0.1@%[3]d

stub-zone:
	name: "."
	stub-addr: 127.0.0.1@%[3]d
`, dir, port, bgPort))
	daemon(t, dir, unbound, "-d", "-c", conf)

	eventually(t, 15*time.Second, "unbound resolves the service", func() (bool, string) {
		got := short(t, addr, svc, "A")
		return got == blueAddr, got
	})
	out := dig(t, addr, svc, "A")
	if status(out) != "NOERROR" || !flags(out)["ra"] || flags(out)["aa"] {
		t.Fatalf("resolver answer:\n%s", out)
	}
	if got := short(t, addr, "preview."+svc, "A"); got != greenAddr {
		t.Fatalf("preview through unbound: %q", got)
	}
	if got := short(t, addr, "green."+svc, "AAAA"); got != "2001:db8::21" {
		t.Fatalf("green AAAA through unbound: %q", got)
	}
	if out := dig(t, addr, "nope."+zone, "A"); status(out) != "NXDOMAIN" {
		t.Fatalf("nonexistent name through unbound:\n%s", out)
	}
	if out := dig(t, addr, svc, "TXT"); status(out) != "NOERROR" || !strings.Contains(out, "ANSWER: 0") {
		t.Fatalf("NODATA through unbound:\n%s", out)
	}

	// the switch: unbound may hold blue for at most the TTL
	n.apply(t, control.Command{Op: control.OpSwitch, Name: svc})
	took := eventually(t, time.Duration(serviceTTL)*time.Second+2*time.Second, "unbound sees green within the TTL", func() (bool, string) {
		got := short(t, addr, svc, "A")
		return got == greenAddr, got
	})
	t.Logf("unbound saw the switch after %s (TTL %ds)", took.Round(time.Millisecond), serviceTTL)

	// a node that is not serving makes the resolver fail rather than
	// answer a stale colour
	n.serving.Store(false)
	n.apply(t, control.Command{Op: control.OpRollback, Name: svc})
	eventually(t, time.Duration(serviceTTL)*time.Second+2*time.Second, "unbound gets SERVFAIL from a stale node", func() (bool, string) {
		out := dig(t, addr, svc, "A")
		return status(out) == "SERVFAIL", status(out)
	})
}
