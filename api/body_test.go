package api

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/bgdns/bgdns/control"
)

func mustAddrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// A body must be declared JSON: a cross-origin form post cannot be.
func TestWritesNeedJSONContentType(t *testing.T) {
	e := newEnv(t, Options{})
	e.seed()
	before := len(e.b.Proposals())
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", "application/jsonx"} {
		req, _ := http.NewRequest("PUT", e.srv.URL+"/v1/zones/bg.example.com", strings.NewReader(zoneBody))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: %d", ct, res.StatusCode)
		}
	}
	if len(e.b.Proposals()) != before {
		t.Fatal("a refused body was proposed")
	}
	e.must(http.StatusOK, "PUT", "/v1/zones/bg.example.com", zoneBody, "Content-Type", "application/json; charset=utf-8")
	e.must(http.StatusOK, "POST", "/v1/services/api.bg.example.com/deploy", `{"version":"2","addresses":["10.0.0.2"]}`, "Content-Type", "application/merge-patch+json")
	// A write without a body needs no Content-Type.
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/services/api.bg.example.com/switch", nil)
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("bodiless switch: %d", res.StatusCode)
	}
}

func TestPoolAddressRefusal(t *testing.T) {
	e := newEnv(t, Options{})
	e.seed()
	for _, a := range []string{"0.0.0.0", "169.254.0.1", "224.0.0.5", "255.255.255.255", "240.1.1.1", "::", "fe80::1", "ff02::1", "127.0.0.1", "::1"} {
		r := e.do("PUT", "/v1/services/web.bg.example.com", `{"blue":{"version":"1","addresses":["`+a+`"]}}`)
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", a, r.status, r.body)
			continue
		}
		errorOf(t, r)
		r = e.do("POST", "/v1/services/api.bg.example.com/deploy", `{"version":"2","addresses":["`+a+`"]}`)
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("deploy %s: %d %s", a, r.status, r.body)
		}
	}
	// A zone that allows loopback takes 127/8 and ::1 (local demos).
	e.mutation("PUT", "/v1/zones/bg.example.com", `{"ns":["ns1.bg.example.com"],"glue":{"ns1.bg.example.com":["127.0.0.1"]},"allow_loopback":true}`)
	var z Zone
	e.must(http.StatusOK, "GET", "/v1/zones/bg.example.com", "").decode(t, &z)
	if !z.AllowLoopback {
		t.Fatal("allow_loopback not shown")
	}
	e.mutation("PUT", "/v1/services/web.bg.example.com", `{"blue":{"version":"1","addresses":["127.0.0.5","::1"]}}`)
}

func TestQuotaIs507(t *testing.T) {
	if s := statusFor(control.CodeQuota); s != http.StatusInsufficientStorage {
		t.Fatalf("quota: %d", s)
	}
	for c, want := range map[control.Code]int{CodeForbidden: 403, CodeUnauthorized: 401, CodeUnsupportedMedia: 415} {
		if s := statusFor(c); s != want {
			t.Errorf("%s: %d", c, s)
		}
	}
}
