package api

import "encoding/json"

// RequestMeta are the fields every mutating body may carry.
type RequestMeta struct {
	// ExpectRevision, when non-zero, must equal the current revision
	// (checked inside Apply). The If-Match header says the same.
	ExpectRevision uint64 `json:"expect_revision,omitempty"`
	// RequestID makes a retry safe: a repeated id returns the first result.
	// The X-Request-Id header says the same.
	RequestID string `json:"request_id,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Wait "all" returns once every member applied the change (as ?wait=all).
	Wait string `json:"wait,omitempty"`
	// Force, with a reason, overrides the safety rules of a switch
	// (freeze, min_switch_interval, min_healthy) and the retire watermark
	// of complete; the override is recorded in history.
	Force bool `json:"force,omitempty"`
}

// ServicePut is the body of PUT /v1/services/{fqdn}: the service object.
// Name must match the path when given; zone, previous, state, revision and
// changed_at are read-only and ignored, so a GET can be edited and put back.
type ServicePut struct {
	RequestMeta
	Name      string          `json:"name,omitempty"`
	TTL       uint32          `json:"ttl,omitempty"`
	Active    string          `json:"active,omitempty"`
	Blue      *Pool           `json:"blue,omitempty"`
	Green     *Pool           `json:"green,omitempty"`
	NoTXT     bool            `json:"no_txt,omitempty"`
	Zone      json.RawMessage `json:"zone,omitempty"`
	Previous  json.RawMessage `json:"previous,omitempty"`
	State     json.RawMessage `json:"state,omitempty"`
	Revision  json.RawMessage `json:"revision,omitempty"`
	ChangedAt json.RawMessage `json:"changed_at,omitempty"`
	ServiceSafety
	ServiceStatusIn
}

// ZonePut is the body of PUT /v1/zones/{zone} (optional: every field has a
// default). Name must match the path when given; serial, revision and
// changed_at are read-only and ignored.
type ZonePut struct {
	RequestMeta
	Name string `json:"name,omitempty"`
	SOA  *SOA   `json:"soa,omitempty"`
	// NS is a list of host names, or "auto": the NS set and glue follow
	// the members' NS names (glue given with it is refused).
	NS        NSNames             `json:"ns,omitempty"`
	Glue      map[string][]string `json:"glue,omitempty"`
	Serial    json.RawMessage     `json:"serial,omitempty"`
	Revision  json.RawMessage     `json:"revision,omitempty"`
	ChangedAt json.RawMessage     `json:"changed_at,omitempty"`
	Frozen    bool                `json:"frozen,omitempty"`
	// AllowLoopback lets the zone's pools hold loopback addresses.
	AllowLoopback bool `json:"allow_loopback,omitempty"`
}

// DeployRequest is the body of POST .../deploy.
type DeployRequest struct {
	RequestMeta
	Version   string   `json:"version"`
	Addresses []string `json:"addresses"`
}

// SwitchRequest is the body of POST .../switch; To defaults to the idle
// colour.
type SwitchRequest struct {
	RequestMeta
	To string `json:"to,omitempty"`
}

// ActionRequest is the (optional) body of rollback, complete and deletes.
type ActionRequest struct {
	RequestMeta
}
