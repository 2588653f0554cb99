package control

import (
	"net/netip"
	"time"
)

// SOA holds a zone's SOA fields other than the serial, which bgdns moves on
// by itself with every change to the zone.
type SOA struct {
	MName   string `json:"mname"`
	RName   string `json:"rname"`
	Refresh uint32 `json:"refresh"`
	Retry   uint32 `json:"retry"`
	Expire  uint32 `json:"expire"`
	Minimum uint32 `json:"minimum"` // negative-caching TTL
	TTL     uint32 `json:"ttl"`     // TTL of the SOA and NS records
}

// Zone is one zone bgdns is authoritative for. Immutable once in a State.
type Zone struct {
	Name     string                  `json:"name"` // canonical
	SOA      SOA                     `json:"soa"`
	NS       []string                `json:"ns"`             // canonical host names
	Glue     map[string][]netip.Addr `json:"glue,omitempty"` // in-zone NS hosts -> addresses
	Serial   uint32                  `json:"serial"`
	Revision uint64                  `json:"revision"`
	// ChangedAt is the leader's time of the last change to the zone.
	ChangedAt time.Time `json:"changed_at"`
	// Frozen refuses switches of every service of the zone until lifted.
	Frozen bool `json:"frozen,omitempty"`
	// AllowLoopback lets pools of the zone's services hold loopback addresses.
	AllowLoopback bool `json:"allow_loopback,omitempty"`
	// NSAuto: NS and Glue follow the cluster's members (ZoneSpec.NSAuto).
	NSAuto bool `json:"ns_auto,omitempty"`
}

// Zone defaults, used when a field is left zero.
const (
	DefaultSOARefresh = 3600
	DefaultSOARetry   = 600
	DefaultSOAExpire  = 604800
	DefaultSOAMinimum = 30
	DefaultSOATTL     = 3600
	DefaultServiceTTL = 5
	MaxTTL            = 86400
)

// SerialFor maps a Raft index to a zone serial: the index of the zone's
// last change, which only ever grows.
func SerialFor(index uint64) uint32 { return uint32(index) }

// touched returns a copy of z with its serial and revision moved to index.
func (z *Zone) touched(index uint64, at time.Time) *Zone {
	c := *z
	c.Serial = SerialFor(index)
	c.Revision = index
	c.ChangedAt = at
	return &c
}

// IsNSHost reports whether name is one of the zone's NS host names.
func (z *Zone) IsNSHost(name string) bool {
	for _, ns := range z.NS {
		if ns == name {
			return true
		}
	}
	return false
}
