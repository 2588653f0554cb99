package peer

import "time"

// NodeStatus is one cluster member as a node reports it. It is
// plain data: the cluster package fills it in, the API prints it.
type NodeStatus struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr,omitempty"`
	DNSAddr  string `json:"dns_addr,omitempty"`
	Voter    bool   `json:"voter"`
	// Role is RoleVoter or RoleEdge (a non-voter).
	Role        string        `json:"role"`
	Leader      bool          `json:"leader"`
	Applied     uint64        `json:"applied_index"`
	LastContact time.Duration `json:"last_contact_ns"`
	Serving     bool          `json:"serving"`
	// Stale: the node serves answers it could not confirm as current.
	Stale     bool   `json:"stale,omitempty"`
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
}

// ClusterStatus is the cluster as seen from one node.
type ClusterStatus struct {
	Self        string       `json:"self"`
	LeaderID    string       `json:"leader_id"`
	LeaderHTTP  string       `json:"leader_http,omitempty"`
	CommitIndex uint64       `json:"commit_index"`
	Members     []NodeStatus `json:"members"`
}

// JoinRequest asks the cluster to add a node.
type JoinRequest struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr"`
	DNSAddr  string `json:"dns_addr,omitempty"`
	// Role is RoleVoter (the default when empty) or RoleEdge.
	Role string `json:"role,omitempty"`
	// NonVoter is the older spelling of role "edge".
	NonVoter bool `json:"non_voter,omitempty"`
	// NSName is the node's public nameserver name, for zones with
	// "ns":"auto".
	NSName string `json:"ns_name,omitempty"`
}
