package api

import (
	"net/netip"
	"strings"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
)

// Pool is one colour's deployment as the API shows it.
type Pool struct {
	Version   string   `json:"version"`
	Addresses []string `json:"addresses"`
	Retired   bool     `json:"retired,omitempty"`
}

// Service is a service as the API reads and writes it (and the CLI's -o json
// prints). Names
// carry no trailing dot.
type Service struct {
	Name      string    `json:"name"`
	Zone      string    `json:"zone"`
	TTL       uint32    `json:"ttl"`
	Active    string    `json:"active"`
	Previous  string    `json:"previous,omitempty"`
	State     string    `json:"state"`
	Revision  uint64    `json:"revision"`
	Blue      *Pool     `json:"blue,omitempty"`
	Green     *Pool     `json:"green,omitempty"`
	NoTXT     bool      `json:"no_txt"`
	ChangedAt time.Time `json:"changed_at"`
	ServiceSafety
	ServiceStatus
}

// SOA is a zone's SOA fields other than the serial.
type SOA struct {
	MName   string `json:"mname"`
	RName   string `json:"rname"`
	Refresh uint32 `json:"refresh"`
	Retry   uint32 `json:"retry"`
	Expire  uint32 `json:"expire"`
	Minimum uint32 `json:"minimum"`
	TTL     uint32 `json:"ttl"`
}

// Zone is a zone as the API shows it.
type Zone struct {
	Name      string              `json:"name"`
	Serial    uint32              `json:"serial"`
	Revision  uint64              `json:"revision"`
	SOA       SOA                 `json:"soa"`
	NS        []string            `json:"ns"`
	Glue      map[string][]string `json:"glue,omitempty"`
	ChangedAt time.Time           `json:"changed_at"`
	Frozen    bool                `json:"frozen,omitempty"`
	// AllowLoopback lets the zone's pools hold 127.0.0.0/8 and ::1.
	AllowLoopback bool `json:"allow_loopback,omitempty"`
	// NSAuto: NS and glue follow the members' NS names ("ns":"auto").
	NSAuto bool `json:"ns_auto,omitempty"`
}

// ServiceList is GET /v1/services.
type ServiceList struct {
	Services []*Service `json:"services"`
	// NextCursor, when set, is the ?cursor= of the next page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// ZoneList is GET /v1/zones.
type ZoneList struct {
	Zones      []*Zone `json:"zones"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// History is GET /v1/services/{fqdn}/history: audit records, newest first.
type History struct {
	Name    string           `json:"name"`
	Records []control.Record `json:"records"`
}

// WaitResult reports a wait=all: whether every member applied the index in
// time, each node's applied index and the ids of those that lag.
type WaitResult struct {
	Complete bool              `json:"complete"`
	Index    uint64            `json:"index"`
	Nodes    []peer.NodeStatus `json:"nodes"`
	Lagging  []string          `json:"lagging"`
	Error    string            `json:"error,omitempty"`
}

// Mutation is the response to every committed change.
type Mutation struct {
	Index     uint64      `json:"index"`
	Duplicate bool        `json:"duplicate,omitempty"`
	RequestID string      `json:"request_id,omitempty"`
	Service   *Service    `json:"service,omitempty"`
	Zone      *Zone       `json:"zone,omitempty"`
	Wait      *WaitResult `json:"wait,omitempty"`
}

// Leader names the cluster's leader.
type Leader struct {
	ID       string `json:"id"`
	HTTPAddr string `json:"http_addr,omitempty"`
}

// Cluster is GET /v1/cluster.
type Cluster struct {
	Self        string            `json:"self"`
	Leader      *Leader           `json:"leader"`
	CommitIndex uint64            `json:"commit_index"`
	Members     []peer.NodeStatus `json:"members"`
}

// MembershipChange is the response to a join or a remove.
type MembershipChange struct {
	Joined  *peer.JoinRequest `json:"joined,omitempty"`
	Removed string            `json:"removed,omitempty"`
	// AuditIndex is the index of the change's audit record (0 when it
	// could not be recorded).
	AuditIndex uint64 `json:"audit_index,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
}

// Health is /healthz and /readyz.
type Health struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func bare(n string) string {
	if len(n) > 1 {
		return strings.TrimSuffix(n, ".")
	}
	return n
}

func addrStrings(in []netip.Addr) []string {
	out := make([]string, len(in))
	for i, a := range in {
		out[i] = a.String()
	}
	return out
}

func toPool(p *control.Pool) *Pool {
	if p == nil {
		return nil
	}
	return &Pool{Version: p.Version, Addresses: addrStrings(p.Addresses), Retired: p.Retired}
}

func toService(s *control.Service) *Service {
	if s == nil {
		return nil
	}
	return &Service{
		Name: bare(s.Name), Zone: bare(s.Zone), TTL: s.TTL, Active: string(s.Active),
		Previous: string(s.Previous), State: string(s.State), Revision: s.Revision,
		Blue: toPool(s.Blue), Green: toPool(s.Green), NoTXT: s.NoTXT, ChangedAt: s.ChangedAt,
		ServiceSafety: safetyOf(s), ServiceStatus: statusOf(s),
	}
}

func toZone(z *control.Zone) *Zone {
	if z == nil {
		return nil
	}
	out := &Zone{
		Name: bare(z.Name), Serial: z.Serial, Revision: z.Revision,
		SOA: SOA{
			MName: bare(z.SOA.MName), RName: bare(z.SOA.RName), Refresh: z.SOA.Refresh,
			Retry: z.SOA.Retry, Expire: z.SOA.Expire, Minimum: z.SOA.Minimum, TTL: z.SOA.TTL,
		},
		NS:        make([]string, len(z.NS)),
		ChangedAt: z.ChangedAt,
		Frozen:    z.Frozen,

		AllowLoopback: z.AllowLoopback,
		NSAuto:        z.NSAuto,
	}
	for i, n := range z.NS {
		out.NS[i] = bare(n)
	}
	if len(z.Glue) > 0 {
		out.Glue = make(map[string][]string, len(z.Glue))
		for h, a := range z.Glue {
			out.Glue[bare(h)] = addrStrings(a)
		}
	}
	return out
}

func toCluster(st peer.ClusterStatus) *Cluster {
	c := &Cluster{Self: st.Self, CommitIndex: st.CommitIndex, Members: st.Members}
	if c.Members == nil {
		c.Members = []peer.NodeStatus{}
	}
	if st.LeaderID != "" {
		c.Leader = &Leader{ID: st.LeaderID, HTTPAddr: st.LeaderHTTP}
	}
	return c
}
