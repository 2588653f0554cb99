package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestBadInput: every kind of malformed or hostile request gets a clean
// 4xx with the error JSON shape, never a 500, and changes nothing.
func TestBadInput(t *testing.T) {
	const svc = "/v1/services/api.bg.example.com"
	long := strings.Repeat("a", 64)
	tests := []struct {
		name         string
		method, path string
		body         string
		hdr          []string
		status       int
		code         string
	}{
		{"bad json", "PUT", svc, `{"ttl":5,`, nil, 400, "bad_request"},
		{"not json", "PUT", svc, `hello`, nil, 400, "bad_request"},
		{"unknown field", "PUT", svc, `{"ttl":5,"colour":"blue","blue":{"version":"1","addresses":["10.0.0.1"]}}`, nil, 400, "bad_request"},
		{"unknown pool field", "PUT", svc, `{"blue":{"version":"1","addrs":["10.0.0.1"]}}`, nil, 400, "bad_request"},
		{"wrong type ttl", "PUT", svc, `{"ttl":"5","blue":{"version":"1","addresses":["10.0.0.1"]}}`, nil, 400, "bad_request"},
		{"negative ttl", "PUT", svc, `{"ttl":-5,"blue":{"version":"1","addresses":["10.0.0.1"]}}`, nil, 400, "bad_request"},
		{"addresses not a list", "PUT", svc, `{"blue":{"version":"1","addresses":"10.0.0.1"}}`, nil, 400, "bad_request"},
		{"trailing garbage", "PUT", svc, svcBody + `x`, nil, 400, "bad_request"},
		{"two values", "PUT", svc, svcBody + svcBody, nil, 400, "bad_request"},
		{"empty body", "PUT", svc, ``, nil, 400, "bad_request"},
		{"whitespace body", "PUT", svc, "  \n", nil, 400, "bad_request"},
		{"json array", "PUT", svc, `[]`, nil, 400, "bad_request"},
		{"json null fields", "PUT", svc, `null`, nil, 422, "invalid"},
		{"unknown colour", "PUT", svc, `{"active":"purple","blue":{"version":"1","addresses":["10.0.0.1"]}}`, nil, 422, "invalid"},
		{"invalid address", "PUT", svc, `{"blue":{"version":"1","addresses":["10.0.0.300"]}}`, nil, 422, "invalid"},
		{"hostname address", "PUT", svc, `{"blue":{"version":"1","addresses":["example.com"]}}`, nil, 422, "invalid"},
		{"multicast address", "PUT", svc, `{"blue":{"version":"1","addresses":["224.0.0.1"]}}`, nil, 422, "invalid"},
		{"duplicate address", "PUT", svc, `{"blue":{"version":"1","addresses":["10.0.0.1","10.0.0.1"]}}`, nil, 422, "invalid"},
		{"no active addresses", "PUT", svc, `{"blue":{"version":"1","addresses":[]}}`, nil, 422, "invalid"},
		{"bad version", "PUT", svc, `{"blue":{"version":"1 0","addresses":["10.0.0.1"]}}`, nil, 422, "invalid"},
		{"ttl too high", "PUT", svc, `{"ttl":999999,"blue":{"version":"1","addresses":["10.0.0.1"]}}`, nil, 422, "invalid"},
		{"body name mismatch", "PUT", svc, `{"name":"web.bg.example.com","blue":{"version":"1","addresses":["10.0.0.1"]}}`, nil, 400, "bad_request"},
		{"invalid name", "PUT", "/v1/services/bad_name!.bg.example.com", svcBody, nil, 422, "invalid"},
		{"label too long", "GET", "/v1/services/" + strings.Repeat(long, 2) + ".bg.example.com", "", nil, 422, "invalid"},
		{"no zone", "PUT", "/v1/services/api.elsewhere.test", svcBody, nil, 422, "invalid"},
		{"reserved label", "PUT", "/v1/services/preview.bg.example.com", svcBody, nil, 422, "invalid"},
		{"two labels deep", "PUT", "/v1/services/a.api.bg.example.com", svcBody, nil, 422, "invalid"},
		{"unknown service get", "GET", "/v1/services/nope.bg.example.com", "", nil, 404, "not_found"},
		{"unknown service delete", "DELETE", "/v1/services/nope.bg.example.com", "", nil, 404, "not_found"},
		{"unknown service switch", "POST", "/v1/services/nope.bg.example.com/switch", "", nil, 404, "not_found"},
		{"unknown service history", "GET", "/v1/services/nope.bg.example.com/history", "", nil, 404, "not_found"},
		{"bad history limit", "GET", svc + "/history?limit=ten", "", nil, 400, "bad_request"},
		{"negative history limit", "GET", svc + "/history?limit=-1", "", nil, 400, "bad_request"},
		{"deploy no body", "POST", svc + "/deploy", "", nil, 400, "bad_request"},
		{"deploy no addresses", "POST", svc + "/deploy", `{"version":"2.0","addresses":[]}`, nil, 422, "invalid"},
		{"deploy no version", "POST", svc + "/deploy", `{"addresses":["10.0.0.21"]}`, nil, 422, "invalid"},
		{"deploy bad address", "POST", svc + "/deploy", `{"version":"2.0","addresses":["10.0.0.21/24"]}`, nil, 422, "invalid"},
		{"deploy unknown field", "POST", svc + "/deploy", `{"version":"2.0","addresses":["10.0.0.21"],"colour":"green"}`, nil, 400, "bad_request"},
		{"switch unknown colour", "POST", svc + "/switch", `{"to":"red"}`, nil, 422, "invalid"},
		{"switch to active", "POST", svc + "/switch", `{"to":"blue"}`, nil, 409, "conflict"},
		{"switch wrong type", "POST", svc + "/switch", `{"expect_revision":"two"}`, nil, 400, "bad_request"},
		{"switch bad wait", "POST", svc + "/switch?wait=some", "", nil, 400, "bad_request"},
		{"switch bad body wait", "POST", svc + "/switch", `{"wait":"yes"}`, nil, 400, "bad_request"},
		{"switch bad wait timeout", "POST", svc + "/switch?wait=all&wait_timeout=soon", "", nil, 400, "bad_request"},
		{"switch zero wait timeout", "POST", svc + "/switch?wait=all&wait_timeout=0s", "", nil, 400, "bad_request"},
		{"rollback nothing", "POST", svc + "/rollback", "", nil, 409, "conflict"},
		{"complete nothing", "POST", svc + "/complete", "", nil, 409, "conflict"},
		{"reason too long", "POST", svc + "/rollback", `{"reason":"` + strings.Repeat("x", 2000) + `"}`, nil, 422, "invalid"},
		{"control chars in reason", "POST", svc + "/rollback", `{"reason":"a\u0001b"}`, nil, 422, "invalid"},
		{"request id too long", "POST", svc + "/rollback", "", []string{HeaderRequestID, strings.Repeat("r", 200)}, 422, "invalid"},
		{"if-match garbage", "DELETE", svc, "", []string{"If-Match", `"abc"`}, 400, "bad_request"},
		{"zone bad ns", "PUT", "/v1/zones/other.test", `{"ns":["bad name"]}`, nil, 422, "invalid"},
		{"zone glue not ns", "PUT", "/v1/zones/other.test", `{"ns":["ns1.other.test"],"glue":{"ns9.other.test":["127.0.0.1"]}}`, nil, 422, "invalid"},
		{"zone glue bad addr", "PUT", "/v1/zones/other.test", `{"ns":["ns1.other.test"],"glue":{"ns1.other.test":["x"]}}`, nil, 422, "invalid"},
		{"zone in-zone ns without glue", "PUT", "/v1/zones/other.test", `{"ns":["ns1.other.test"]}`, nil, 422, "invalid"},
		{"zone soa wrong type", "PUT", "/v1/zones/other.test", `{"soa":{"minimum":"30"}}`, nil, 400, "bad_request"},
		{"zone soa timer too big", "PUT", "/v1/zones/other.test", `{"soa":{"minimum":4294967295},"ns":["ns.example.net"]}`, nil, 422, "invalid"},
		{"zone unknown field", "PUT", "/v1/zones/other.test", `{"nameservers":[]}`, nil, 400, "bad_request"},
		{"zone under service", "PUT", "/v1/zones/x.api.bg.example.com", `{"ns":["ns.example.net"]}`, nil, 409, "conflict"},
		{"zone with services delete", "DELETE", "/v1/zones/bg.example.com", "", nil, 409, "conflict"},
		{"unknown zone get", "GET", "/v1/zones/none.test", "", nil, 404, "not_found"},
		{"unknown zone delete", "DELETE", "/v1/zones/none.test", "", nil, 404, "not_found"},
		{"unknown zone filter", "GET", "/v1/services?zone=none.test", "", nil, 404, "not_found"},
		{"join no body", "POST", "/v1/cluster/join", "", nil, 400, "bad_request"},
		{"join no id", "POST", "/v1/cluster/join", `{"raft_addr":"127.0.0.1:7060"}`, nil, 422, "invalid"},
		{"join bad raft addr", "POST", "/v1/cluster/join", `{"id":"n4","raft_addr":"nowhere"}`, nil, 422, "invalid"},
		{"join bad http addr", "POST", "/v1/cluster/join", `{"id":"n4","raft_addr":"127.0.0.1:7060","http_addr":"ftp://x"}`, nil, 422, "invalid"},
		{"join unknown field", "POST", "/v1/cluster/join", `{"id":"n4","raft_addr":"127.0.0.1:7060","suffrage":"x"}`, nil, 400, "bad_request"},
		{"join unknown role", "POST", "/v1/cluster/join", `{"id":"n4","raft_addr":"127.0.0.1:7060","role":"observer"}`, nil, 422, "invalid"},
		{"join role and non_voter disagree", "POST", "/v1/cluster/join", `{"id":"n4","raft_addr":"127.0.0.1:7060","role":"voter","non_voter":true}`, nil, 422, "invalid"},
		{"remove unknown member", "DELETE", "/v1/cluster/members/n9", "", nil, 404, "not_found"},
		{"unknown endpoint", "GET", "/v1/nothing", "", nil, 404, "not_found"},
		{"method not allowed", "PATCH", "/v1/zones/bg.example.com", `{}`, nil, 405, "method_not_allowed"},
		{"patch bad json", "PATCH", svc, `{"ttl":`, nil, 400, "bad_request"},
		{"patch not an object", "PATCH", svc, `[{"op":"replace","path":"/ttl","value":30}]`, nil, 400, "bad_request"},
		{"patch empty", "PATCH", svc, ``, nil, 400, "bad_request"},
		{"patch unknown field", "PATCH", svc, `{"colour":"green"}`, nil, 400, "bad_request"},
		{"patch wrong type", "PATCH", svc, `{"ttl":"30"}`, nil, 400, "bad_request"},
		{"patch read-only", "PATCH", svc, `{"state":"stable"}`, nil, 400, "bad_request"},
		{"patch bad meta", "PATCH", svc, `{"expect_revision":"x"}`, nil, 400, "bad_request"},
		{"patch other name", "PATCH", svc, `{"name":"web.bg.example.com"}`, nil, 400, "bad_request"},
		{"patch invalid result", "PATCH", svc, `{"blue":null}`, nil, 422, "invalid"},
		{"patch ttl too large", "PATCH", svc, `{"ttl":99999999}`, nil, 422, "invalid"},
		{"patch form", "PATCH", svc, `ttl=30`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"patch missing service", "PATCH", "/v1/services/web.bg.example.com", `{"ttl":30}`, nil, 404, "not_found"},
		{"post to service", "POST", svc, `{}`, nil, 405, "method_not_allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.seed()
			before := e.b.State()
			r := e.do(tc.method, tc.path, tc.body, tc.hdr...)
			if r.status >= 500 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if got := errorOf(t, r); got.Code != tc.code {
				t.Fatalf("code %q, want %q: %s", got.Code, tc.code, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
			if after := e.b.State(); after.Service("api.bg.example.com.").Revision != before.Service("api.bg.example.com.").Revision {
				t.Fatal("a rejected request changed the service")
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, Options{MaxBodyBytes: 256})
	e.seed()
	big := `{"version":"2.0","addresses":["10.0.0.21"],"reason":"` + strings.Repeat("x", 300) + `"}`
	r := e.must(http.StatusRequestEntityTooLarge, "POST", "/v1/services/api.bg.example.com/deploy", big)
	if er := errorOf(t, r); er.Code != "too_large" {
		t.Fatalf("code %q", er.Code)
	}
	// Without a Content-Length the limit still holds.
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/services/api.bg.example.com/deploy", strings.NewReader(big))
	req.ContentLength = -1
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked body: status %d", res.StatusCode)
	}
	// The default is 1 MiB.
	e2 := newEnv(t, Options{})
	e2.seed()
	huge := `{"reason":"` + strings.Repeat("x", 2<<20) + `"}`
	errorOf(t, e2.must(http.StatusRequestEntityTooLarge, "POST", "/v1/services/api.bg.example.com/rollback", huge))
}

func TestStatusMapping(t *testing.T) {
	for code, want := range map[string]int{
		"bad_request": 400, "not_found": 404, "conflict": 409, "invalid": 422, "no_leader": 503,
		"not_leader": 503, "too_large": 413, "unauthorized": 401, "method_not_allowed": 405, "internal": 500, "weird": 500,
	} {
		if got := statusFor(controlCode(code)); got != want {
			t.Errorf("%s: %d, want %d", code, got, want)
		}
	}
}
