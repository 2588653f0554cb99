package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
)

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// row writes tab-separated cells; empty cells print as "-".
func row(tw io.Writer, cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		s := fmt.Sprint(c)
		if s == "" {
			s = "-"
		}
		parts[i] = s
	}
	fmt.Fprintln(tw, strings.Join(parts, "\t"))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func poolVersion(p *api.Pool) string {
	if p == nil {
		return ""
	}
	return p.Version
}

func activeVersion(s *api.Service) string {
	if s.Active == "green" {
		return poolVersion(s.Green)
	}
	return poolVersion(s.Blue)
}

// printService writes one service: its fields, then one line per colour.
func printService(w io.Writer, s *api.Service) {
	tw := newTable(w)
	active := s.Active
	if s.Previous != "" {
		active += " (previous " + s.Previous + ")"
	}
	row(tw, "NAME", s.Name)
	row(tw, "ZONE", s.Zone)
	row(tw, "ACTIVE", active)
	row(tw, "STATE", s.State)
	row(tw, "REVISION", s.Revision)
	row(tw, "TTL", s.TTL)
	if s.NoTXT {
		row(tw, "TXT", "off")
	}
	row(tw, "CHANGED", fmtTime(s.ChangedAt))
	tw.Flush()
	fmt.Fprintln(w)
	tw = newTable(w)
	row(tw, "COLOUR", "ROLE", "VERSION", "ADDRESSES")
	for _, c := range []struct {
		name string
		p    *api.Pool
	}{{"blue", s.Blue}, {"green", s.Green}} {
		role := "idle"
		switch {
		case c.name == s.Active:
			role = "active"
		case c.p == nil:
			role = "empty"
		case c.p.Retired:
			role = "retired"
		}
		var addrs []string
		if c.p != nil {
			addrs = c.p.Addresses
		}
		row(tw, c.name, role, poolVersion(c.p), strings.Join(addrs, ","))
	}
	tw.Flush()
	printSafety(w, s)
}

// printServices writes the services summary table.
func printServices(w io.Writer, svcs []*api.Service) {
	tw := newTable(w)
	if anyHealthCheck(svcs) {
		printServicesHealth(w, svcs)
		return
	}
	row(tw, "NAME", "ACTIVE", "VERSION", "STATE", "REVISION", "TTL", "BLUE", "GREEN")
	for _, s := range svcs {
		row(tw, s.Name, s.Active, activeVersion(s), s.State, s.Revision, s.TTL, poolVersion(s.Blue), poolVersion(s.Green))
	}
	tw.Flush()
}

func printZone(w io.Writer, z *api.Zone) {
	tw := newTable(w)
	row(tw, "NAME", z.Name)
	row(tw, "SERIAL", z.Serial)
	row(tw, "REVISION", z.Revision)
	ns := strings.Join(z.NS, ", ")
	if z.NSAuto {
		ns += " (auto: the members' NS names)"
	}
	row(tw, "NS", ns)
	if z.AllowLoopback {
		row(tw, "LOOPBACK", "allowed in pools")
	}
	for _, ns := range z.NS {
		if g := z.Glue[ns]; len(g) > 0 {
			row(tw, "GLUE", ns+" "+strings.Join(g, ","))
		}
	}
	row(tw, "SOA", fmt.Sprintf("%s %s refresh=%d retry=%d expire=%d minimum=%d ttl=%d",
		z.SOA.MName, z.SOA.RName, z.SOA.Refresh, z.SOA.Retry, z.SOA.Expire, z.SOA.Minimum, z.SOA.TTL))
	row(tw, "CHANGED", fmtTime(z.ChangedAt))
	tw.Flush()
}

func printZones(w io.Writer, zs []*api.Zone) {
	tw := newTable(w)
	row(tw, "NAME", "SERIAL", "REVISION", "NS")
	for _, z := range zs {
		row(tw, z.Name, z.Serial, z.Revision, strings.Join(z.NS, ","))
	}
	tw.Flush()
}

func printHistory(w io.Writer, recs []control.Record) {
	tw := newTable(w)
	row(tw, "TIME", "INDEX", "ACTION", "FROM", "TO", "VERSION", "ACTOR", "REASON", "REQUEST")
	for _, r := range recs {
		reason := r.Reason
		if r.Override {
			reason = strings.TrimSpace(reason + " [override: " + strings.Join(r.Overrides, ",") + "]")
		}
		who := r.Actor
		if r.OnBehalfOf != "" {
			who += " (for " + r.OnBehalfOf + ")"
		}
		row(tw, fmtTime(r.Time), r.Index, r.Action, r.From, r.To, r.Version, who, reason, r.RequestID)
	}
	tw.Flush()
}

func fmtContact(n peer.NodeStatus) string {
	if n.Leader {
		return "leader"
	}
	return time.Duration(n.LastContact).Round(time.Millisecond).String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func printMembers(w io.Writer, nodes []peer.NodeStatus) {
	tw := newTable(w)
	row(tw, "ID", "LEADER", "ROLE", "APPLIED", "LAST CONTACT", "SERVING", "RAFT", "HTTP", "DNS")
	for _, n := range nodes {
		leader := ""
		if n.Leader {
			leader = "*"
		}
		contact := fmtContact(n)
		if n.Error != "" {
			contact = "error: " + n.Error
		}
		role := n.Role
		if role == "" { // a member that predates roles
			role = peer.RoleOf(n.Voter)
		}
		row(tw, n.ID, leader, role, n.Applied, contact, yesNo(n.Serving), n.RaftAddr, n.HTTPAddr, n.DNSAddr)
	}
	tw.Flush()
}

// printMutation writes what a write did, the new object and the wait.
func printMutation(w io.Writer, verb string, m *api.Mutation) {
	name := ""
	switch {
	case m.Service != nil:
		name = m.Service.Name
	case m.Zone != nil:
		name = m.Zone.Name
	}
	line := fmt.Sprintf("%s %s: committed at index %d", verb, name, m.Index)
	if m.Duplicate {
		line += " (repeated request_id: the first result, not applied again)"
	}
	fmt.Fprintln(w, line)
	fmt.Fprintln(w)
	switch {
	case m.Service != nil:
		printService(w, m.Service)
	case m.Zone != nil:
		printZone(w, m.Zone)
	}
	if wr := m.Wait; wr != nil {
		fmt.Fprintln(w)
		if wr.Complete {
			fmt.Fprintf(w, "every member applied index %d\n", wr.Index)
		} else {
			fmt.Fprintf(w, "NOT every member applied index %d in time; lagging: %s\n", wr.Index, strings.Join(wr.Lagging, ", "))
		}
		tw := newTable(w)
		row(tw, "NODE", "APPLIED", "LEADER")
		for _, n := range wr.Nodes {
			leader := ""
			if n.Leader {
				leader = "*"
			}
			row(tw, n.ID, n.Applied, leader)
		}
		tw.Flush()
	}
}
