//go:build interop

package interop

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/dnsserver"
)

// TestKnotSecondaryFollowsSwitchByNotify is the NSD test against Knot
// DNS, which asks for IXFR first: bgdns answers it with the whole zone.
func TestKnotSecondaryFollowsSwitchByNotify(t *testing.T) {
	knotd := tool(t, "knotd")
	t.Logf("peer: %s", version(t, "knotd", "-V"))
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	n, _, bgPort := startBGDNS(t, dnsserver.Config{
		XFRKeys: []string{keySpec},
		Notify:  []string{addr},
	})

	conf := filepath.Join(dir, "knot.conf")
	writeFile(t, conf, fmt.Sprintf(`server:
    listen: 127.0.0.1@%[2]d
    rundir: "%[1]s"
    background-workers: 1
    tcp-workers: 1
    udp-workers: 1

log:
  - target: stderr
    any: info

database:
    storage: "%[1]s"

key:
  - id: %[4]s
    algorithm: hmac-sha256
    secret: %[5]s

remote:
  - id: bgdns
    address: 127.0.0.1@%[3]d
    key: %[4]s

acl:
  - id: notify-from-bgdns
    address: 127.0.0.1
    key: %[4]s
    action: notify

template:
  - id: default
    storage: "%[1]s"
    semantic-checks: off

zone:
  - domain: bg.example.test
    master: bgdns
    acl: notify-from-bgdns
    file: "%[1]s/bg.example.test.zone"
    zonefile-sync: -1
    zonefile-load: none
    journal-content: none
`, dir, port, bgPort, keyName, keySecret))
	daemon(t, dir, knotd, "-c", conf)

	eventually(t, 15*time.Second, "Knot serves the zone", func() (bool, string) {
		got := short(t, addr, svc, "A", "+norecurse")
		return got == blueAddr, got
	})
	n.apply(t, control.Command{Op: control.OpSwitch, Name: svc, Reason: "interop"})
	took := eventually(t, 5*time.Second, "Knot serves green after the switch", func() (bool, string) {
		got := short(t, addr, svc, "A", "+norecurse")
		return got == greenAddr, got
	})
	t.Logf("Knot followed the switch in %s", took.Round(time.Millisecond))
	eventually(t, 5*time.Second, "Knot serves the TXT record", func() (bool, string) {
		got := short(t, addr, "_bgdns."+svc, "TXT", "+norecurse")
		want := fmt.Sprintf(`"%s"`, dnsserver.TXTValue(n.State().Service(svc)))
		return got == want, got
	})
}
