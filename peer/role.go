package peer

import "github.com/bgdns/bgdns/control"

// Roles a member can have. A voter takes part in elections and commits;
// an edge is a Raft non-voter: it replicates the log and serves DNS from
// it, forwards writes, and never votes or leads.
const (
	RoleVoter = "voter"
	RoleEdge  = "edge"
)

// CheckRole reports whether role names a member role ("" is a voter).
func CheckRole(role string) error {
	switch role {
	case "", RoleVoter, RoleEdge:
		return nil
	}
	return control.Invalid("role %q: want %s or %s", role, RoleVoter, RoleEdge)
}

// JoinRole is the role field a join request carries for role: empty for
// a voter (the default, which members that predate roles understand too),
// else the role.
func JoinRole(role string) string {
	if role == RoleVoter {
		return ""
	}
	return role
}

// RoleOf names the role of a member by its suffrage.
func RoleOf(voter bool) string {
	if voter {
		return RoleVoter
	}
	return RoleEdge
}

// Edge reports whether the request asks to join as an edge (a non-voter):
// role "edge", or the older non_voter flag.
func (r JoinRequest) Edge() bool { return r.Role == RoleEdge || r.NonVoter }

// MemberRole is the role the request asks for: RoleVoter or RoleEdge.
func (r JoinRequest) MemberRole() string { return RoleOf(!r.Edge()) }
