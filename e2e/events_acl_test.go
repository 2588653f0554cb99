package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// On a TLS node with ACLs, the event stream shows a scoped token the records of its own service only, and
// wants a token at all.
func TestEventsScopedOverTLS(t *testing.T) {
	requireE2E(t, "dig")
	n := StartNode(t, NodeOptions{ID: "e1", Bootstrap: true, TLS: NewTestCA(t), ACL: true})
	var boot tokenChangeJSON
	aclCLIJSON(t, n, "", &boot, "acl", "bootstrap")
	admin := boot.Secret
	for _, svc := range []string{svcName, "web.bg.example.test"} {
		if r := aclCLI(t, n, admin, "service", "put", svc, "--ttl", "5", "--blue", blueV4[0], "--blue-version", "1.0",
			"--green", greenV4[0], "--green-version", "2.0"); r.Code != 0 {
			t.Fatalf("%s", r)
		}
	}
	var ci tokenChangeJSON
	aclCLIJSON(t, n, admin, &ci, "acl", "token", "create", "--name", "ci", "--role", "read", "--scope", svcName)

	client := probeClientNoTimeout()
	open := func(secret string) *http.Response {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second*slow)
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, "GET", n.URL()+"/v1/events/stream?limit=100", nil)
		if secret != "" {
			req.Header.Set("Authorization", "Bearer "+secret)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	if res := open(""); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("stream without a token: %d", res.StatusCode)
	}
	res := open(ci.Secret)
	if res.StatusCode != 200 || res.TLS == nil {
		t.Fatalf("scoped stream: %d (TLS %v)", res.StatusCode, res.TLS != nil)
	}
	lines := readLines(res.Body)
	// what it may see: its service's records and its zone's changes
	visible := func(ev eventJSON) bool {
		return (ev.Kind == "service" && ev.Name == svcName) || (ev.Kind == "zone" && ev.Name == "bg.example.test")
	}
	for {
		_, event, ev := sseEvent(t, lines, "the scoped token's first events")
		if !visible(ev) {
			t.Fatalf("the scoped token sees %s %+v", event, ev)
		}
		if event == "service.put" {
			break
		}
	}
	// web switches first, then api: the scoped stream shows api's only
	for _, svc := range []string{"web.bg.example.test", svcName} {
		if r := aclCLI(t, n, admin, "switch", svc, "--reason", "scoped e2e"); r.Code != 0 {
			t.Fatalf("%s", r)
		}
	}
	id, event, ev := sseEvent(t, lines, "the scoped token's next event")
	if event != "switch" || !visible(ev) || ev.Record.Reason != "scoped e2e" || id == "" {
		t.Fatalf("next event %s %s %+v: want %s's switch", id, event, ev, svcName)
	}
	// the admin's stream has every kind
	all := readLines(open(admin).Body)
	kinds := map[string]bool{}
	for len(kinds) < 3 {
		_, _, ev := sseEvent(t, all, "the admin's events")
		kinds[ev.Kind] = true
		if ev.Name == svcName && ev.Action == "switch" {
			break
		}
	}
	if !kinds["token"] || !kinds["zone"] || !kinds["service"] {
		t.Fatalf("the admin saw kinds %v", kinds)
	}
}
