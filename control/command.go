package control

import (
	"net/netip"
	"time"
)

// Op names what a Command does.
type Op string

const (
	OpZonePut       Op = "zone.put"
	OpZoneDelete    Op = "zone.delete"
	OpServicePut    Op = "service.put"
	OpServiceDelete Op = "service.delete"
	OpDeploy        Op = "deploy"
	OpSwitch        Op = "switch"
	OpRollback      Op = "rollback"
	OpComplete      Op = "complete"
	// OpHealth commits address health transitions of one service (prober).
	OpHealth Op = "health"
	// OpValidated ends a validation window that passed (prober).
	OpValidated Op = "validated"
	// OpFreeze and OpUnfreeze set and lift the freeze of a service or a
	// zone (Name says which), refusing switches while set.
	OpFreeze   Op = "freeze"
	OpUnfreeze Op = "unfreeze"
	// ACL: bootstrap (once per cluster), token create and revoke. Name is
	// the token id; the command carries only the secret's hash.
	OpACLBootstrap Op = "acl.bootstrap"
	OpTokenCreate  Op = "token.create"
	OpTokenRevoke  Op = "token.revoke"
	// OpMemberJoin and OpMemberRemove record, in the audit, a membership
	// change Raft has already made (Name is the node id). A retry with the
	// same request id is recorded once.
	OpMemberJoin   Op = "member.join"
	OpMemberRemove Op = "member.remove"
	// OpRetireConfirmed: every member applied the service's last switch
	// (leader; retire.go).
	OpRetireConfirmed Op = "retire.confirmed"
)

// Command is one change to the State, as it travels through the Raft log.
// Actor and RequestID are stamped by the proposer, Time by the leader as
// the command enters Raft (never by Apply).
type Command struct {
	Op    Op        `json:"op"`
	Name  string    `json:"name"` // zone or service, canonical
	Time  time.Time `json:"time"`
	Actor string    `json:"actor,omitempty"`
	// OnBehalfOf is the actor a client named when Actor is its token's name.
	OnBehalfOf string `json:"on_behalf_of,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// ExpectRevision, when non-zero, must equal the current revision of the
	// service (or zone), checked inside Apply.
	ExpectRevision uint64 `json:"expect_revision,omitempty"`

	Zone    *ZoneSpec    `json:"zone,omitempty"`    // zone.put
	Service *ServiceSpec `json:"service,omitempty"` // service.put
	Deploy  *DeploySpec  `json:"deploy,omitempty"`  // deploy
	To      Colour       `json:"to,omitempty"`      // switch: target ("" = idle)
	Health  *HealthSpec  `json:"health,omitempty"`  // health
	Token   *TokenSpec   `json:"token,omitempty"`   // acl.bootstrap, token.create
	Member  *MemberSpec  `json:"member,omitempty"`  // member.join, member.remove
	Retire  *RetireSpec  `json:"retire,omitempty"`  // retire.confirmed

	// Force, with a reason, overrides the safety gates of a switch (frozen,
	// min_switch_interval, min_healthy) and the retire watermark of complete.
	// An override is written to history.
	Force bool `json:"force,omitempty"`
	// IfState, when set, must be the service's current state (lifecycle ops).
	IfState Phase `json:"if_state,omitempty"`
	// MaxStale is the cluster's bound on how long a node may serve without
	// hearing from a leader, stamped by the leader when the proposer left it
	// zero; zero means DefaultMaxStale. It enters the retire watermark of
	// switch and rollback.
	MaxStale Duration `json:"max_stale,omitempty"`
	// Rules is the version of the apply rules the command was proposed
	// under, stamped by the leader (RulesVersion). Apply follows the rules
	// of that version, so a log written by an older build replays to the
	// same state on a newer one. Zero is the first version.
	Rules int `json:"rules,omitempty"`
}

// RulesVersion is the version of the apply rules of this build:
//
//	0: the first rules.
//	1: a service put that changes the active colour of an existing
//	   service is a switch (switch gates, a switch record).
const RulesVersion = 1

// RulesPutIsSwitch is the first rules version where a service put that
// changes the active colour is a switch.
const RulesPutIsSwitch = 1

// ZoneSpec is the body of a zone put. Zero fields take defaults.
type ZoneSpec struct {
	SOA  SOA                     `json:"soa"`
	NS   []string                `json:"ns,omitempty"`
	Glue map[string][]netip.Addr `json:"glue,omitempty"`
	// Frozen refuses switches of every service of the zone until lifted.
	Frozen bool `json:"frozen,omitempty"`
	// AllowLoopback lets pools of the zone's services hold loopback
	// addresses (127.0.0.0/8, ::1): for local demos and tests.
	AllowLoopback bool `json:"allow_loopback,omitempty"`
	// NSAuto makes NS and Glue follow the cluster's members that have an
	// NS name: the leader fills them in before it proposes the command
	// (and proposes the zone again when the members change).
	NSAuto bool `json:"ns_auto,omitempty"`
}

// ServiceSpec is the body of a service put (create or replace).
type ServiceSpec struct {
	TTL    uint32 `json:"ttl,omitempty"`
	Active Colour `json:"active,omitempty"`
	Blue   *Pool  `json:"blue,omitempty"`
	Green  *Pool  `json:"green,omitempty"`
	NoTXT  bool   `json:"no_txt,omitempty"`

	HealthCheck       *HealthCheck `json:"health_check,omitempty"`
	Validation        *Validation  `json:"validation,omitempty"`
	MinHealthy        int          `json:"min_healthy,omitempty"`
	FailClosed        bool         `json:"fail_closed,omitempty"`
	MinSwitchInterval Duration     `json:"min_switch_interval,omitempty"`
	Frozen            bool         `json:"frozen,omitempty"`
}

// DeploySpec is the body of a deploy onto the idle colour.
type DeploySpec struct {
	Version   string       `json:"version"`
	Addresses []netip.Addr `json:"addresses"`
}

// Result is what Apply returns for one Command.
type Result struct {
	Index     uint64   `json:"index"`
	Service   *Service `json:"service,omitempty"`
	Zone      *Zone    `json:"zone,omitempty"`
	Token     *Token   `json:"token,omitempty"`
	Err       *Error   `json:"error,omitempty"`
	Duplicate bool     `json:"duplicate,omitempty"` // a repeated request id
}
