package e2e

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const (
	svcName = "api.bg.example.test"
	svcFQDN = svcName + "."
)

var (
	blueV4  = []string{"10.0.0.11", "10.0.0.12"}
	greenV4 = []string{"10.0.0.21"}
	greenV6 = []string{"2001:db8::21"}
)

// TestLifecycleCLI is the walkthrough of the one-node lifecycle, typed as a
// user would through the CLI and checked with dig at every step; then the
// process is killed with SIGKILL and restarted without --bootstrap, and
// everything must still be there.
func TestLifecycleCLI(t *testing.T) {
	n := StartNode(t, NodeOptions{ID: "n1", Bootstrap: true})
	soa := newSerialTracker(t, n, testZone)

	// The zone named by --zone exists: apex SOA and NS, authoritative.
	apex := n.Dig(testZone, "NS")
	if apex.Status != "NOERROR" || !apex.HasFlag("aa") || len(apex.Values("NS")) == 0 {
		t.Fatalf("apex NS: want authoritative NS records\n%s", apex.Raw)
	}
	if len(apex.AdditionalValues("A")) == 0 {
		t.Errorf("apex NS: no glue A for the in-zone nameserver\n%s", apex.Raw)
	}

	// Initial: a service with a blue pool, blue active.
	n.CLI("service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	soa.moved("service put")
	wantAddrs(t, "live A after put", n.Dig(svcName, "A"), "A", 5, blueV4...)
	wantAddrs(t, "blue A after put", n.Dig("blue."+svcName, "A"), "A", 5, blueV4...)
	wantNegative(t, "live AAAA after put (NODATA)", n.Dig(svcName, "AAAA"), "NOERROR", testZone)
	wantNegative(t, "preview A with no idle pool (NODATA)", n.Dig("preview."+svcName, "A"), "NOERROR", testZone)
	wantTXT(t, "TXT after put", n.Dig("_bgdns."+svcName, "TXT"),
		map[string]string{"active": "blue", "version": "1.0", "state": "stable"})

	var got ServiceJSON
	CLIJSON(t, n.URL(), &got, "service", "get", svcName)
	if got.Name != svcName || got.Active != "blue" || got.State != "stable" || got.TTL != 5 ||
		got.Blue == nil || got.Blue.Version != "1.0" || got.Revision == 0 {
		t.Fatalf("service get -o json after put: %+v", got)
	}
	wantTXT(t, "TXT revision", n.Dig("_bgdns."+svcName, "TXT"),
		map[string]string{"revision": fmt.Sprint(got.Revision)})

	// Deploy 2.0 onto green: preview and green answer green, live stays blue.
	n.CLI("deploy", svcName, "--version", "2.0", "--addr", greenV4[0], "--addr", greenV6[0])
	soa.moved("deploy")
	wantAddrs(t, "preview A after deploy", n.Dig("preview."+svcName, "A"), "A", 5, greenV4...)
	wantAddrs(t, "preview AAAA after deploy", n.Dig("preview."+svcName, "AAAA"), "AAAA", 5, greenV6...)
	wantAddrs(t, "green A after deploy", n.Dig("green."+svcName, "A"), "A", 5, greenV4...)
	wantAddrs(t, "live A after deploy (still blue)", n.Dig(svcName, "A"), "A", 5, blueV4...)
	wantNegative(t, "live AAAA after deploy (blue has none)", n.Dig(svcName, "AAAA"), "NOERROR", testZone)
	wantTXT(t, "TXT after deploy", n.Dig("_bgdns."+svcName, "TXT"),
		map[string]string{"active": "blue", "version": "1.0", "state": "deployed"})

	// Switch with a reason: the live name answers green.
	n.CLI("switch", svcName, "--reason", "2.0 passed tests")
	soa.moved("switch")
	wantAddrs(t, "live A after switch", n.Dig(svcName, "A"), "A", 5, greenV4...)
	wantAddrs(t, "live AAAA after switch", n.Dig(svcName, "AAAA"), "AAAA", 5, greenV6...)
	wantAddrs(t, "live A over TCP after switch", n.Dig(svcName, "A", "+tcp"), "A", 5, greenV4...)
	wantAddrs(t, "preview A after switch (blue is idle)", n.Dig("preview."+svcName, "A"), "A", 5, blueV4...)
	wantAddrs(t, "blue A after switch", n.Dig("blue."+svcName, "A"), "A", 5, blueV4...)
	wantTXT(t, "TXT after switch", n.Dig("_bgdns."+svcName, "TXT"),
		map[string]string{"active": "green", "version": "2.0", "state": "validating"})

	// Rollback: blue again.
	n.CLI("rollback", svcName)
	soa.moved("rollback")
	wantAddrs(t, "live A after rollback", n.Dig(svcName, "A"), "A", 5, blueV4...)
	wantNegative(t, "live AAAA after rollback", n.Dig(svcName, "AAAA"), "NOERROR", testZone)
	wantTXT(t, "TXT after rollback", n.Dig("_bgdns."+svcName, "TXT"),
		map[string]string{"active": "blue", "version": "1.0", "state": "rolled_back"})

	// Complete: green is retired, no longer previewed, still on its own name.
	n.CLI("complete", svcName)
	soa.moved("complete")
	wantAddrs(t, "live A after complete", n.Dig(svcName, "A"), "A", 5, blueV4...)
	wantNegative(t, "preview A after complete (green retired)", n.Dig("preview."+svcName, "A"), "NOERROR", testZone)
	wantAddrs(t, "green A after complete", n.Dig("green."+svcName, "A"), "A", 5, greenV4...)
	wantTXT(t, "TXT after complete", n.Dig("_bgdns."+svcName, "TXT"),
		map[string]string{"active": "blue", "state": "stable"})

	// History: every step, newest first, with index, actor and reason.
	checkHistory(t, n)
	table := n.CLI("history", svcName)
	for _, w := range []string{"2.0 passed tests", "switch", "rollback", "complete", "deploy"} {
		if !strings.Contains(table, w) {
			t.Errorf("bgdns history: %q missing from\n%s", w, table)
		}
	}
	if list := n.CLI("service", "list"); !strings.Contains(list, svcName) {
		t.Errorf("bgdns service list: %s missing from\n%s", svcName, list)
	}

	checkProtocol(t, n)

	// kill -9 and restart without --bootstrap: nothing is lost, and the node
	// answers the same from its first ready moment.
	before := observe(t, n)
	svcBefore := GetService(t, n.URL(), svcName)
	histBefore := GetHistory(t, n.URL(), svcName)
	n.Kill9()
	n.Restart()
	if after := observe(t, n); !reflect.DeepEqual(before, after) {
		t.Fatalf("DNS answers changed across kill -9 and restart:\nbefore %v\nafter  %v", before, after)
	}
	if s := GetService(t, n.URL(), svcName); !reflect.DeepEqual(s, svcBefore) {
		t.Fatalf("service changed across restart:\nbefore %+v\nafter  %+v", svcBefore, s)
	}
	if h := GetHistory(t, n.URL(), svcName); !reflect.DeepEqual(h, histBefore) {
		t.Fatalf("history changed across restart:\nbefore %+v\nafter  %+v", histBefore, h)
	}

	// And it still takes changes, moving the serial on from where it was.
	soa = newSerialTracker(t, n, testZone)
	n.CLI("deploy", svcName, "--version", "3.0", "--addr", "10.0.0.31")
	n.CLI("switch", svcName, "--reason", "3.0 after restart")
	soa.moved("switch after restart")
	wantAddrs(t, "live A after restart and switch", n.Dig(svcName, "A"), "A", 5, "10.0.0.31")

	// A second kill -9 right after the change keeps it too.
	n.Kill9()
	n.Restart()
	wantAddrs(t, "live A after second restart", n.Dig(svcName, "A"), "A", 5, "10.0.0.31")
}

// checkHistory reads the history through the CLI's -o json and checks the
// five steps of the walkthrough are there, newest first.
func checkHistory(t *testing.T, n *Node) {
	t.Helper()
	var raw []byte
	out := CLI(t, n.URL(), "history", svcName, "-o", "json")
	raw = []byte(out)
	var recs []RecordJSON
	if err := decodeList(raw, &recs, "history", "records", "items"); err != nil {
		t.Fatalf("bgdns history -o json: %v", err)
	}
	want := []string{"complete", "rollback", "switch", "deploy", "service.put"}
	if len(recs) != len(want) {
		t.Fatalf("history has %d records, want %d: %+v", len(recs), len(want), recs)
	}
	for i, r := range recs {
		if r.Action != want[i] {
			t.Errorf("history[%d].action = %q, want %q", i, r.Action, want[i])
		}
		if r.Index == 0 || r.Actor == "" || r.Time.IsZero() {
			t.Errorf("history[%d] lacks index, actor or time: %+v", i, r)
		}
		if i > 0 && r.Index >= recs[i-1].Index {
			t.Errorf("history not newest first: index %d after %d", r.Index, recs[i-1].Index)
		}
	}
	if sw := recs[2]; sw.Reason != "2.0 passed tests" || sw.From != "blue" || sw.To != "green" {
		t.Errorf("switch record: %+v", sw)
	}
	if rb := recs[1]; rb.From != "green" || rb.To != "blue" {
		t.Errorf("rollback record: %+v", rb)
	}
	if d := recs[3]; d.Version != "2.0" {
		t.Errorf("deploy record: %+v", d)
	}
}

// checkProtocol checks the protocol rules that do not depend on the
// lifecycle step: AA on authoritative answers, NXDOMAIN and NODATA with the
// SOA in the authority section, REFUSED outside our zones, case echoed.
func checkProtocol(t *testing.T, n *Node) {
	t.Helper()
	wantNegative(t, "unknown name", n.Dig("nope."+testZone, "A"), "NXDOMAIN", testZone)
	wantNegative(t, "unknown name under a service", n.Dig("x.y."+svcName, "A"), "NXDOMAIN", testZone)

	out := n.Dig("www.example.com.", "A")
	if out.Status != "REFUSED" || len(out.Answer) != 0 || out.HasFlag("aa") {
		t.Errorf("out-of-zone name: want REFUSED, no answer, no AA\n%s", out.Raw)
	}
	if out.HasFlag("ra") {
		t.Errorf("RA set: bgdns never recurses\n%s", out.Raw)
	}

	// Case-insensitive, echoing the query's case.
	mixed := "API.Bg.Example.TEST."
	a := n.Dig(mixed, "A")
	wantAddrs(t, "mixed-case query", a, "A", 5, blueV4...)
	for _, rr := range a.Answer {
		if rr.Name != mixed {
			t.Errorf("answer owner %q, want the query's case %q", rr.Name, mixed)
		}
	}

	// The same over TCP.
	wantAddrs(t, "live A over TCP", n.Dig(svcName, "A", "+tcp"), "A", 5, blueV4...)
	wantNegative(t, "unknown name over TCP", n.Dig("nope."+testZone, "A", "+tcp"), "NXDOMAIN", testZone)
}

// observe records how node n answers the names of the walkthrough.
func observe(t *testing.T, n *Node) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, q := range []struct{ name, typ string }{
		{svcFQDN, "A"}, {svcFQDN, "AAAA"},
		{"blue." + svcFQDN, "A"}, {"green." + svcFQDN, "A"}, {"green." + svcFQDN, "AAAA"},
		{"preview." + svcFQDN, "A"}, {"_bgdns." + svcFQDN, "TXT"},
		{testZone, "SOA"}, {testZone, "NS"},
	} {
		a := n.Dig(q.name, q.typ)
		got[q.name+" "+q.typ] = fmt.Sprintf("%s %v", a.Status, a.Values(""))
	}
	return got
}
