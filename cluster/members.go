package cluster

import "sort"

// Member is what the cluster replicates about one node besides its Raft
// address: where its API and DNS listen.
type Member struct {
	ID       string `json:"id"`
	HTTPAddr string `json:"http_addr,omitempty"`
	DNSAddr  string `json:"dns_addr,omitempty"`
	// NSName is the node's public nameserver name (serve --ns-name), for
	// the zones whose NS set follows the members.
	NSName string `json:"ns_name,omitempty"`
}

// members is an immutable map of member metadata by node id.
type members map[string]Member

func (m members) apply(op memberOp) members {
	n := make(members, len(m)+1)
	for k, v := range m {
		n[k] = v
	}
	switch op.Op {
	case memberSet:
		n[op.Member.ID] = op.Member
	case memberDelete:
		delete(n, op.Member.ID)
	}
	return n
}

func (m members) sorted() []Member {
	out := make([]Member, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func membersFrom(list []Member) members {
	m := make(members, len(list))
	for _, v := range list {
		if v.ID != "" {
			m[v.ID] = v
		}
	}
	return m
}
