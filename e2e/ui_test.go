package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// js expressions that read the status page.
const (
	jsColour  = `(document.querySelector('tr[data-service="` + svcName + `"] td.colour') || {}).textContent || ""`
	jsVersion = `(document.querySelector('tr[data-service="` + svcName + `"] td.version') || {}).textContent || ""`
	jsState   = `(document.querySelector('tr[data-service="` + svcName + `"] td.state') || {}).textContent || ""`
	jsRoles   = `Array.from(document.querySelectorAll('#members tbody td.role')).map(e => e.textContent).join(",")`
	jsApplied = `Array.from(document.querySelectorAll('#members tbody td.applied')).map(e => e.textContent).join(",")`
	jsLive    = `document.getElementById('live').textContent`
	jsRates   = `document.getElementById('rates').dataset.state + ":" + document.getElementById('rates').textContent`
	jsEvents  = `Array.from(document.querySelectorAll('#events li')).map(e => e.textContent).join("\n")`
	jsPrompt  = `document.getElementById('token-prompt').hidden ? "hidden" : "shown"`
)

// The status page of one node shows the service, the members and the
// answers per colour; a switch made through the REST API of another node
// turns its colour green in the same page, without a reload.
func TestStatusPageFollowsASwitch(t *testing.T) {
	chromiumPath(t)
	c := StartCluster(t, 3, ClusterOptions{})
	clusterCLI(t, c, "service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	clusterCLI(t, c, "deploy", svcName, "--version", "2.0", "--addr", greenV4[0])
	n := c.Nodes[2]

	b := startBrowser(t)
	b.navigate(n.URL() + "/ui/")
	b.waitEval("the service shown blue", jsColour, func(v string) bool { return v == "blue" })
	if v, _ := b.eval(jsVersion); v != "1.0" {
		t.Fatalf("version before the switch: %q", v)
	}
	b.waitEval("three members, one leader", jsRoles, func(v string) bool {
		return strings.Count(v, "leader") == 1 && len(strings.Split(v, ",")) == 3
	})
	b.waitEval("every member's applied index", jsApplied, func(v string) bool {
		for _, s := range strings.Split(v, ",") {
			if i, err := strconv.Atoi(s); err != nil || i == 0 {
				return false
			}
		}
		return true
	})
	b.waitEval("the event stream connected", jsLive, func(v string) bool { return v == "live" })
	// /metrics comes with the Prometheus exporter; without it the page
	// says so.
	st, _, err := httpGet(n.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if st == 404 {
		b.waitEval("metrics unavailable", jsRates, func(v string) bool { return strings.Contains(v, "metrics unavailable") })
	} else {
		for range 3 {
			n.Dig(svcName, "A")
		}
		b.waitEval("answers per colour", jsRates, func(v string) bool {
			return strings.HasPrefix(v, "ok:") && strings.Contains(v, "blue")
		})
	}
	if _, err := b.eval(`window.samePage = "yes"; "set"`); err != nil {
		t.Fatal(err)
	}
	b.screenshot("before-switch")

	m := mutate(t, "POST", c.Nodes[0].URL()+"/v1/services/"+svcName+"/switch", map[string]string{"reason": "status page e2e"})
	b.waitEval("the service shown green", jsColour, func(v string) bool { return v == "green" })
	if v, _ := b.eval(jsVersion); v != "2.0" {
		t.Errorf("version after the switch: %q", v)
	}
	if v, _ := b.eval(jsState); !strings.HasPrefix(v, "validating") {
		t.Errorf("state after the switch: %q", v)
	}
	events := b.waitEval("the switch in the event list", jsEvents, func(v string) bool {
		return strings.Contains(v, fmt.Sprintf("#%d ", m.Index))
	})
	first := strings.Split(events, "\n")[0]
	if !strings.Contains(first, "switch") || !strings.Contains(first, "blue → green") || !strings.HasPrefix(first, fmt.Sprintf("#%d ", m.Index)) {
		t.Errorf("newest event %q, want the switch at %d", first, m.Index)
	}
	if v, _ := b.eval(`window.samePage || "reloaded"`); v != "yes" {
		t.Fatalf("the page reloaded: %q", v)
	}
	t.Logf("screenshot: %s", b.screenshot("after-switch"))
}

// With ACLs on, the page itself loads without a token and asks for one;
// once given, its data calls carry it (in a header, never the URL).
func TestStatusPageAsksForAToken(t *testing.T) {
	chromiumPath(t)
	const token = "status-page-management-token"
	n := StartNode(t, NodeOptions{ID: "u1", Bootstrap: true, Args: []string{"--acl"}, Env: []string{"BGDNS_API_TOKEN=" + token}})
	r := callAs(t, token, "PUT", n.URL()+"/v1/services/"+svcName, map[string]any{
		"ttl": 5, "blue": map[string]any{"version": "1.0", "addresses": blueV4}}, nil)
	if r.Status != 200 && r.Status != 201 {
		t.Fatalf("%s", r)
	}
	st, _, err := httpGet(n.URL() + "/v1/services")
	if err != nil || st != 401 {
		t.Fatalf("data without a token: %d %v", st, err)
	}
	page := callAs(t, "", "GET", n.URL()+"/ui/", nil, nil)
	if page.Status != 200 || !strings.Contains(page.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("page without a token: %s %v", page, page.Header)
	}

	// One load, scripts run: the prompt shows, the data does not.
	dom := dumpDOM(t, n.URL()+"/ui/")
	form := regexp.MustCompile(`<form id="token-prompt"[^>]*>`).FindString(dom)
	main := regexp.MustCompile(`<main id="main"[^>]*>`).FindString(dom)
	if form == "" || strings.Contains(form, "hidden") || !strings.Contains(main, "hidden") {
		t.Fatalf("dumped DOM: prompt %q, main %q", form, main)
	}
	if strings.Contains(dom, `data-service="`+svcName+`"`) {
		t.Fatal("the page shows a service without a token")
	}

	b := startBrowser(t)
	b.navigate(n.URL() + "/ui/")
	b.waitEval("the token prompt", jsPrompt, func(v string) bool { return v == "shown" })
	b.screenshot("token-prompt")
	if _, err := b.eval(`document.getElementById('token').value = "wrong-token";
		document.getElementById('token-prompt').requestSubmit(); "sent"`); err != nil {
		t.Fatal(err)
	}
	b.waitEval("the prompt again for a wrong token", `document.getElementById('token-why').textContent`,
		func(v string) bool { return strings.Contains(v, "not known") })
	if _, err := b.eval(`document.getElementById('token').value = "` + token + `";
		document.getElementById('token-prompt').requestSubmit(); "sent"`); err != nil {
		t.Fatal(err)
	}
	b.waitEval("the service after the token", jsColour, func(v string) bool { return v == "blue" })
	b.waitEval("the prompt gone", jsPrompt, func(v string) bool { return v == "hidden" })
	b.waitEval("the event stream with the token", jsLive, func(v string) bool { return v == "live" })
	if v, _ := b.eval(`location.href`); strings.Contains(v, token) {
		t.Fatalf("the token is in the URL: %s", v)
	}
	if v, _ := b.eval(`sessionStorage.getItem("bgdns.token") === "` + token + `" && localStorage.length === 0 ? "session" : "elsewhere"`); v != "session" {
		t.Fatalf("token kept: %s", v)
	}
	if strings.Contains(n.Log(), token) {
		t.Fatal("the token is in the node's log")
	}
	b.screenshot("after-token")
}

// The page computes the rate of answers per colour from successive
// scrapes of /metrics, summed over zones. The node is behind a proxy that
// serves a /metrics of its own, whose counters grow by a known amount per
// scrape.
func TestStatusPageAnswerRates(t *testing.T) {
	chromiumPath(t)
	n := StartNode(t, NodeOptions{ID: "r1", Bootstrap: true})
	n.CLI("service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	target, err := url.Parse(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1
	var scrapes atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/", proxy)
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		k := scrapes.Add(1)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# HELP bgdns_dns_answers_total Answers of live names by colour.\n# TYPE bgdns_dns_answers_total counter\n"+
			"bgdns_dns_answers_total{colour=\"blue\",zone=\"%s\"} %d\n"+
			"bgdns_dns_answers_total{colour=\"blue\",zone=\"other.test.\"} %d\n"+
			"bgdns_dns_answers_total{colour=\"green\",zone=\"%s\"} 7\n"+
			"bgdns_dns_queries_total{qtype=\"A\",rcode=\"NOERROR\",transport=\"udp\",zone=\"%s\"} %d\n"+
			"bgdns_service_answers_total{colour=\"blue\",service=\"%s.\"} %d\n"+
			"bgdns_service_answers_total{colour=\"green\",service=\"%s.\"} 3\n",
			testZone, 1000*k, 10*k, testZone, testZone, 5000*k, svcName, 500*k, svcName)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	b := startBrowser(t)
	b.navigate(srv.URL + "/ui/")
	b.waitEval("the service through the proxy", jsColour, func(v string) bool { return v == "blue" })
	jsRate := func(c string) string {
		return `(() => { const s = document.querySelector('#rates [data-colour="` + c + `"]');
			return s ? s.dataset.total + " " + s.textContent : ""; })()`
	}
	var blue string
	b.waitEval("a blue rate from two scrapes", jsRate("blue"), func(v string) bool {
		blue = v
		return v != "" && !strings.Contains(v, "…")
	})
	// "<total> blue: <rate> answers/s": the total is summed over both zones
	var total int64
	var rate float64
	if _, err := fmt.Sscanf(blue, "%d blue: %f answers/s", &total, &rate); err != nil {
		t.Fatalf("blue %q: %v", blue, err)
	}
	if total%1010 != 0 || total < 2020 || rate <= 0 {
		t.Fatalf("blue total %d rate %v (%q)", total, rate, blue)
	}
	green := b.waitEval("green's rate", jsRate("green"), func(v string) bool { return v != "" && !strings.Contains(v, "…") })
	if !strings.HasPrefix(green, "7 green: 0.0 answers/s") {
		t.Fatalf("green %q: a counter that does not move is no rate", green)
	}
	// and per service, in its row
	perSvc := b.waitEval("the service's rates", `(document.querySelector('tr[data-service="`+svcName+`"] td.rate') || {}).textContent || ""`,
		func(v string) bool { return strings.HasPrefix(v, "blue ") && !strings.Contains(v, "…") })
	var svcBlue, svcGreen float64
	if _, err := fmt.Sscanf(perSvc, "blue %f/s, green %f/s", &svcBlue, &svcGreen); err != nil || svcBlue <= 0 || svcGreen != 0 {
		t.Fatalf("service rates %q (%v)", perSvc, err)
	}
	b.screenshot("rates")
}
