package dataset

import (
	"encoding/json"
	"net/netip"
)

type poolBody struct {
	Version   string       `json:"version"`
	Addresses []netip.Addr `json:"addresses"`
}

type serviceBody struct {
	TTL    uint32   `json:"ttl"`
	Active string   `json:"active"`
	Blue   poolBody `json:"blue"`
	Green  poolBody `json:"green"`
}

// ServiceJSON is the PUT /v1/services/{fqdn} body for svc: blue active,
// green ready so that switches have somewhere to go.
func ServiceJSON(svc Service) []byte {
	b := serviceBody{TTL: ServiceTTL, Active: "blue",
		Blue:  poolBody{Version: "1.0", Addresses: []netip.Addr{svc.Blue}},
		Green: poolBody{Version: "2.0", Addresses: []netip.Addr{svc.Green}},
	}
	if svc.HasV6() {
		b.Blue.Addresses = append(b.Blue.Addresses, svc.Blue6)
		b.Green.Addresses = append(b.Green.Addresses, svc.Green6)
	}
	out, _ := json.Marshal(b)
	return out
}

// ZoneJSON is the PUT /v1/zones/{zone} body matching WriteZoneFile's apex.
func (s *Set) ZoneJSON() []byte {
	body := map[string]any{
		"soa": map[string]any{
			"mname": s.NSName(), "rname": "hostmaster." + s.Zone,
			"refresh": 3600, "retry": 600, "expire": 604800,
			"minimum": SOAMinimum, "ttl": SOATTL,
		},
		"ns":   []string{s.NSName()},
		"glue": map[string][]string{s.NSName(): {"127.0.0.1"}},
	}
	out, _ := json.Marshal(body)
	return out
}
