// Package peer is how one bgdns node talks to another's REST API: it reads
// a member's own status (applied index, last leader contact, serving) and
// its divergence checkpoint, and asks a member to add a node (following
// the redirect to the leader, retrying while there is no leader). Every
// such call goes through one Client, which carries the node's TLS
// configuration (its member certificate as client certificate, the
// cluster CA, server name verified) and its token, so that node-to-node
// calls are authenticated in one place.
//
// It also owns the words those calls carry: NodeStatus, ClusterStatus and
// JoinRequest are cluster vocabulary, shared by cluster (which fills them
// in), api (which prints them) and the CLI, and kept out of control.
//
// The paths it calls are the API's own: api registers its routes with the
// constants below, so they are written once.
package peer
