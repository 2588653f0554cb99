package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/client"
	"github.com/bgdns/bgdns/control"
)

func TestCLIACL(t *testing.T) {
	e := newCLIEnv(t, api.Options{ACL: true})
	e.fail(client.ExitRefused, "bootstrap", "service", "list")
	var boot api.TokenChange
	if err := json.Unmarshal([]byte(e.cli("acl", "bootstrap", "-o", "json")), &boot); err != nil || boot.Secret == "" {
		t.Fatalf("bootstrap: %+v %v", boot, err)
	}
	e.fail(client.ExitPrecondition, "already done", "acl", "bootstrap")
	admin := []string{"--token", boot.Secret}
	e.cli(append(admin, "zone", "put", "bg.example.com", "--ns", "ns1.bg.example.com", "--glue", "ns1.bg.example.com=127.0.0.1")...)
	e.cli(append(admin, "service", "put", "api.bg.example.com", "--blue", "10.0.0.11", "--blue-version", "1.0")...)

	r := runCLI(t, e.srv.URL, append(admin, "acl", "token", "create", "--name", "ci-api", "--role", "deploy", "--scope", "api.*.example.com")...)
	if r.code != 0 || !strings.Contains(r.stderr, "shown only this once") {
		t.Fatalf("create: %+v", r)
	}
	wantLines(t, r.stdout, "ci-api", "deploy", "api.*.example.com", "SECRET", api.SecretPrefix)
	var secret, id string
	for _, line := range strings.Split(r.stdout, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "SECRET" {
			secret = f[1]
		}
		if len(f) == 2 && f[0] == "ID" {
			id = f[1]
		}
	}
	if secret == "" || id == "" {
		t.Fatalf("no secret or id in:\n%s", r.stdout)
	}
	ci := []string{"--token", secret}
	e.cli(append(ci, "deploy", "api.bg.example.com", "--version", "2.0", "--addr", "10.0.0.21")...)
	e.fail(client.ExitRefused, "forbidden", append(ci, "service", "delete", "api.bg.example.com")...)
	e.fail(client.ExitRefused, "forbidden", append(ci, "acl", "token", "list")...)

	list := e.cli(append(admin, "acl", "token", "list")...)
	wantLines(t, list, "ID", "NAME", "ROLE", "bootstrap", "ci-api", "api.*.example.com")
	if strings.Contains(list, secret) || strings.Contains(list, boot.Secret) {
		t.Fatal("token list shows a secret")
	}
	wantLines(t, e.cli(append(admin, "acl", "token", "revoke", id)...), "revoked "+id)
	e.fail(client.ExitRefused, "unauthorized", append(ci, "service", "list")...)

	audit := e.cli(append(admin, "audit")...)
	wantLines(t, audit, "token.revoke", "token.create", "acl.bootstrap", "zone.put", "bootstrap")
	var al api.AuditList
	if err := json.Unmarshal([]byte(e.cli(append(admin, "audit", "-o", "json", "--limit", "2")...)), &al); err != nil || len(al.Records) != 2 {
		t.Fatalf("audit json: %+v %v", al, err)
	}
	// History names the token, and the CLI's actor is kept as on_behalf_of.
	var h api.History
	if err := json.Unmarshal([]byte(e.cli(append(admin, "history", "api.bg.example.com", "-o", "json")...)), &h); err != nil {
		t.Fatal(err)
	}
	if h.Records[0].Actor != "ci-api" || h.Records[0].OnBehalfOf != "cli-test" {
		t.Fatalf("history %+v", h.Records[0])
	}
	wantLines(t, e.cli(append(admin, "history", "api.bg.example.com")...), "ci-api (for cli-test)")
}

// service list, zone list and status read every page.
func TestCLIListsFollowCursors(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	e.seed()
	const n = 1203
	for i := 0; i < n; i++ {
		res, err := e.b.Propose(context.Background(), control.Command{Op: control.OpServicePut,
			Name: fmt.Sprintf("s%04d.bg.example.com", i), Service: &control.ServiceSpec{
				Blue: &control.Pool{Version: "1", Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.1")}}}})
		if err != nil || res.Err != nil {
			t.Fatal(err, res.Err)
		}
	}
	var l api.ServiceList
	if err := json.Unmarshal([]byte(e.cli("service", "list", "-o", "json")), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Services) != n+1 || l.NextCursor != "" {
		t.Fatalf("json list: %d services, cursor %q", len(l.Services), l.NextCursor)
	}
	table := e.cli("service", "list")
	if got := strings.Count(table, "\n"); got != n+2 {
		t.Fatalf("table has %d lines, want %d", got, n+2)
	}
	wantLines(t, table, "s0000.bg.example.com", "s1202.bg.example.com", "api.bg.example.com")
	wantLines(t, e.cli("status"), "s1202.bg.example.com")
}
