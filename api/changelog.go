package api

import (
	"github.com/bgdns/bgdns/control"
)

// ChangeMessage is the message of the one info line logged for every
// committed change.
const ChangeMessage = "change"

// Actions the change line names that are not a command's op.
const (
	// ActionServicePatch is a PATCH of a service (committed as a put).
	ActionServicePatch = "service.patch"
)

// auditScan bounds how many of the newest audit records are searched for
// the record a change wrote.
const auditScan = 64

// logChange writes the one info line of a change this node committed:
// action, what it is about (service, zone, member or token id), from, to,
// index, actor, reason and request_id, taken from the record Apply wrote
// at that index. A duplicate (a retried request id) changed nothing and is
// not logged. action overrides the command's op ("service.patch"); a put
// or patch that changed the active colour is logged as the switch it is,
// with via naming the write.
func (h *handler) logChange(cmd control.Command, res control.Result, action string) {
	if res.Duplicate {
		return
	}
	if action == "" {
		action = string(cmd.Op)
	}
	key, target := "service", cmd.Name
	switch cmd.Op {
	case control.OpZonePut, control.OpZoneDelete:
		key = "zone"
	case control.OpFreeze, control.OpUnfreeze:
		if res.Zone != nil {
			key = "zone"
		}
	case control.OpMemberJoin, control.OpMemberRemove:
		key = "member"
	case control.OpACLBootstrap, control.OpTokenCreate, control.OpTokenRevoke:
		key = "token"
		if res.Token != nil {
			target = res.Token.ID
		}
	}
	rec, found := h.committedRecord(key, target, res.Index)
	if !found {
		if key == "member" {
			return // a member that joined again unchanged: nothing recorded
		}
		rec = control.Record{Actor: cmd.Actor, Reason: cmd.Reason, RequestID: cmd.RequestID, OnBehalfOf: cmd.OnBehalfOf}
	}
	attrs := []any{}
	if rec.Action == control.OpSwitch && cmd.Op == control.OpServicePut {
		attrs = append(attrs, "action", string(control.OpSwitch), "via", action)
	} else {
		attrs = append(attrs, "action", action)
	}
	attrs = append(attrs, key, bare(target), "from", rec.From, "to", rec.To, "index", res.Index,
		"actor", rec.Actor, "reason", rec.Reason, "request_id", rec.RequestID)
	if rec.Version != "" {
		attrs = append(attrs, "version", rec.Version)
	}
	if rec.OnBehalfOf != "" {
		attrs = append(attrs, "on_behalf_of", rec.OnBehalfOf)
	}
	if rec.Override {
		attrs = append(attrs, "override", true, "overrides", rec.Overrides)
	}
	h.log.Info(ChangeMessage, attrs...)
}

// committedRecord finds the record a change wrote at index: in the
// service's history (preferring the switch record of a put that changed
// the active colour) or in the audit of zone, membership and token
// changes.
func (h *handler) committedRecord(key, target string, index uint64) (control.Record, bool) {
	st := h.b.State()
	var recs []control.Record
	if key == "service" {
		recs, _ = st.History(target, 4)
	} else {
		recs = st.Audit(auditScan)
	}
	var out control.Record
	found := false
	for _, r := range recs {
		if r.Index != index || (key != "service" && r.Target != target) {
			continue
		}
		if !found || r.Action == control.OpSwitch {
			out, found = r, true
		}
	}
	return out, found
}
