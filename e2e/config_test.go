package e2e

import (
	"net/http"
	"testing"
)

// TestConfigSources starts serve with its settings given only as BGDNS_*
// environment variables, then only in a YAML --config file, and checks each
// node serves its zone and keeps its data across kill -9 and restart.
func TestConfigSources(t *testing.T) {
	for _, via := range []string{"env", "yaml"} {
		t.Run(via, func(t *testing.T) {
			n := StartNode(t, NodeOptions{ID: "c-" + via, Bootstrap: true, Via: via})
			if s := serialOf(t, n, testZone); s == 0 {
				t.Fatalf("zone %s has serial 0", testZone)
			}
			mutate(t, "PUT", n.URL()+"/v1/services/"+svcName,
				map[string]any{"ttl": 7, "blue": map[string]any{"version": "1.0", "addresses": blueV4}})
			wantAddrs(t, "live A", n.Dig(svcName, "A"), "A", 7, blueV4...)

			n.Kill9()
			n.Restart()
			wantAddrs(t, "live A after restart", n.Dig(svcName, "A"), "A", 7, blueV4...)
			Expect(t, http.StatusOK, "GET", n.URL()+"/v1/services/"+svcName, nil)
		})
	}
}
