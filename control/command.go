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
)

// Command is one change to the State, as it travels through the Raft log.
// Time, Actor and RequestID are stamped by the proposer (never by Apply).
type Command struct {
	Op        Op        `json:"op"`
	Name      string    `json:"name"` // zone or service, canonical
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	// ExpectRevision, when non-zero, must equal the current revision of the
	// service (or zone), checked inside Apply.
	ExpectRevision uint64 `json:"expect_revision,omitempty"`

	Zone    *ZoneSpec    `json:"zone,omitempty"`    // zone.put
	Service *ServiceSpec `json:"service,omitempty"` // service.put
	Deploy  *DeploySpec  `json:"deploy,omitempty"`  // deploy
	To      Colour       `json:"to,omitempty"`      // switch: target ("" = idle)
}

// ZoneSpec is the body of a zone put. Zero fields take defaults.
type ZoneSpec struct {
	SOA  SOA                     `json:"soa"`
	NS   []string                `json:"ns,omitempty"`
	Glue map[string][]netip.Addr `json:"glue,omitempty"`
}

// ServiceSpec is the body of a service put (create or replace).
type ServiceSpec struct {
	TTL    uint32 `json:"ttl,omitempty"`
	Active Colour `json:"active,omitempty"`
	Blue   *Pool  `json:"blue,omitempty"`
	Green  *Pool  `json:"green,omitempty"`
	NoTXT  bool   `json:"no_txt,omitempty"`
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
	Err       *Error   `json:"error,omitempty"`
	Duplicate bool     `json:"duplicate,omitempty"` // a repeated request id
}
