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

// TestNSDSecondaryFollowsSwitchByNotify: an NSD secondary configured with
// the TSIG key transfers the zone from bgdns, and after a switch serves
// the new colour within seconds because bgdns sends it a NOTIFY (its SOA
// refresh is an hour, so nothing else would make it look).
func TestNSDSecondaryFollowsSwitchByNotify(t *testing.T) {
	nsd := tool(t, "nsd")
	t.Logf("peer: %s", version(t, "nsd", "-v"))
	dir := t.TempDir()
	nsdPort := freePort(t)
	nsdAddr := fmt.Sprintf("127.0.0.1:%d", nsdPort)

	n, _, bgPort := startBGDNS(t, dnsserver.Config{
		XFRKeys: []string{keySpec},
		Notify:  []string{nsdAddr},
	})

	conf := filepath.Join(dir, "nsd.conf")
	writeFile(t, conf, fmt.Sprintf(`server:
	ip-address: 127.0.0.1@%[2]d
	port: %[2]d
	username: ""
	chroot: ""
	zonesdir: "%[1]s"
	pidfile: "%[1]s/nsd.pid"
	database: ""
	xfrdfile: "%[1]s/xfrd.state"
	xfrdir: "%[1]s"
	zonelistfile: "%[1]s/zone.list"
	logfile: "%[1]s/nsd.log"
	server-count: 1
	verbosity: 2
	do-ip6: no
	reuseport: no

remote-control:
	control-enable: no

key:
	name: "%[4]s"
	algorithm: hmac-sha256
	secret: "%[5]s"

zone:
	name: "bg.example.test"
	zonefile: "bg.example.test.zone"
	allow-notify: 127.0.0.1 %[4]s
	request-xfr: 127.0.0.1@%[3]d %[4]s
`, dir, nsdPort, bgPort, keyName, keySecret))
	daemon(t, dir, nsd, "-d", "-c", conf)

	// the initial transfer
	eventually(t, 15*time.Second, "NSD serves the zone", func() (bool, string) {
		got := short(t, nsdAddr, svc, "A", "+norecurse")
		return got == blueAddr, got
	})
	out := dig(t, nsdAddr, svc, "A", "+norecurse")
	if status(out) != "NOERROR" || !flags(out)["aa"] {
		t.Fatalf("NSD's answer is not authoritative:\n%s", out)
	}

	// the switch reaches NSD by NOTIFY
	n.apply(t, control.Command{Op: control.OpSwitch, Name: svc, Reason: "interop"})
	took := eventually(t, 5*time.Second, "NSD serves green after the switch", func() (bool, string) {
		got := short(t, nsdAddr, svc, "A", "+norecurse")
		return got == greenAddr, got
	})
	t.Logf("NSD followed the switch in %s", took.Round(time.Millisecond))

	// and the rollback, and the serial moved with each
	n.apply(t, control.Command{Op: control.OpRollback, Name: svc})
	eventually(t, 5*time.Second, "NSD serves blue after the rollback", func() (bool, string) {
		got := short(t, nsdAddr, svc, "A", "+norecurse")
		return got == blueAddr, got
	})
	want := fmt.Sprint(n.State().Zone(zone).Serial)
	eventually(t, 5*time.Second, "NSD has the current serial", func() (bool, string) {
		got := short(t, nsdAddr, zone, "SOA", "+norecurse")
		return fieldN(got, 2) == want, got
	})
}

// fieldN is the n-th (0-based) space-separated field of s.
func fieldN(s string, n int) string {
	f := strings.Fields(s)
	if n < len(f) {
		return f[n]
	}
	return ""
}
