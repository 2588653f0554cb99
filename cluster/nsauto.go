package cluster

import (
	"context"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/hashicorp/raft"
)

// nsFollowEvery is how often the leader compares the NS set of the zones
// with "ns":"auto" with the members' NS names.
const nsFollowEvery = time.Second

// autoNS is the NS set and glue a zone with NSAuto gets from the
// members of the configuration that have an NS name: voters first, then
// edges, each by id, at most control.MaxNS names. A name inside the zone
// takes the IP of its member's DNS address as glue, and is left out when
// that address names no usable IP (an unspecified or unparsable one:
// serve --dns-addr 0.0.0.0:53 with an in-zone --ns-name gets no glue).
func (n *Node) autoNS(zone string) ([]string, map[string][]netip.Addr) {
	type cand struct {
		id    string
		voter bool
		m     Member
	}
	meta := n.fsm.Members()
	var cands []cand
	for _, s := range n.configuration() {
		m, ok := meta[string(s.ID)]
		if ok && m.NSName != "" {
			cands = append(cands, cand{string(s.ID), s.Suffrage == raft.Voter, m})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].voter != cands[j].voter {
			return cands[i].voter
		}
		return cands[i].id < cands[j].id
	})
	var ns []string
	glue := map[string][]netip.Addr{}
	for _, c := range cands {
		name := c.m.NSName
		if control.InZone(name, zone) {
			if name == zone {
				continue
			}
			ap, err := netip.ParseAddrPort(c.m.DNSAddr)
			a := ap.Addr().Unmap().WithZone("")
			if err != nil || a.IsUnspecified() || a.IsMulticast() {
				continue
			}
			if !slices.Contains(glue[name], a) {
				glue[name] = append(glue[name], a)
				slices.SortFunc(glue[name], netip.Addr.Compare) // as the zone stores it
			}
		}
		if !slices.Contains(ns, name) {
			if len(ns) == control.MaxNS {
				delete(glue, name)
				continue
			}
			ns = append(ns, name)
		}
	}
	if len(glue) == 0 {
		glue = nil
	}
	return ns, glue
}

// withAutoNS returns cmd with the NS set and glue of autoNS when it puts
// a zone with NSAuto (whatever NS and glue it carried), else cmd as it is.
func (n *Node) withAutoNS(cmd control.Command) control.Command {
	if cmd.Op != control.OpZonePut || cmd.Zone == nil || !cmd.Zone.NSAuto {
		return cmd
	}
	zone, err := control.CanonicalName(cmd.Name)
	if err != nil {
		return cmd // Apply refuses the name
	}
	spec := *cmd.Zone
	spec.NS, spec.Glue = n.autoNS(zone)
	cmd.Zone = &spec
	return cmd
}

// followNS runs on every node (every nsFollowEvery) and acts on the
// leader: a zone with NSAuto whose NS set or glue no longer matches the
// members is put again, with its revision as a precondition so that it
// never overwrites an operator's change.
func (n *Node) followNS() {
	if !n.IsLeader() || n.leaving.Load() || !n.caughtUp.Load() || n.raft.AppliedIndex() < n.raft.CommitIndex() {
		return
	}
	for _, z := range n.State().Zones() {
		if !z.NSAuto {
			continue
		}
		ns, glue := n.autoNS(z.Name)
		if len(ns) == 0 || (slices.Equal(ns, z.NS) && maps.EqualFunc(glue, z.Glue, slices.Equal)) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		res, err := n.Propose(ctx, control.Command{
			Op: control.OpZonePut, Name: z.Name, Actor: "bgdns", Reason: "NS set follows the members",
			ExpectRevision: z.Revision,
			Zone:           &control.ZoneSpec{SOA: z.SOA, Frozen: z.Frozen, AllowLoopback: z.AllowLoopback, NSAuto: true},
		})
		cancel()
		switch {
		case err != nil:
			n.log.Debug("NS set not updated", "zone", z.Name, "err", err)
			return
		case res.Err != nil:
			n.log.Warn("NS set not updated", "zone", z.Name, "err", res.Err)
		default:
			n.log.Info("NS set follows the members", "zone", z.Name, "ns", ns, "index", res.Index)
		}
	}
}
