package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/bgdns/bgdns/control"
)

// patchMetaKeys are the request fields a merge patch body may carry beside
// the service fields; they are taken out before the patch is applied.
var patchMetaKeys = []string{"expect_revision", "request_id", "reason", "wait", "force"}

// patchReadOnly are fields of a service a patch cannot change.
var patchReadOnly = map[string]bool{
	"zone": true, "previous": true, "state": true, "revision": true, "changed_at": true,
	"health": true, "last_switch_at": true, "validating_until": true, "validated_at": true,
	"safe_to_retire_at": true, "retire": true,
}

// patch is PATCH /v1/services/{fqdn}: a JSON merge patch (RFC 7396,
// Content-Type application/merge-patch+json or application/json) applied
// to the service as GET shows it, then committed as the put of the result,
// so it is validated (and gated, when it changes the active colour) as a
// PUT is. Fields not named keep their value; null removes an optional one.
func (rs servicesResource) patch(w http.ResponseWriter, r *http.Request) {
	name, err := nameParam(r, "fqdn")
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	body, err := readBody(r, rs.h.opts.MaxBodyBytes)
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	p, meta, err := parseServicePatch(body)
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	build := func() (control.Command, uint64, error) {
		svc := rs.h.b.State().Service(name)
		if svc == nil {
			return control.Command{}, 0, control.NotFound("service %s not found", bare(name))
		}
		spec, err := patchedSpec(name, svc, p)
		if err != nil {
			return control.Command{}, 0, err
		}
		return control.Command{Op: control.OpServicePut, Name: name, Service: spec}, svc.Revision, nil
	}
	rebase := func() (control.Command, uint64, error) {
		cmd, rev, err := build()
		if err != nil && !rs.h.b.Self().Leader {
			// a follower may not have applied what the patch builds on
			// yet: catch up with the leader and read again (the write is
			// forwarded, and the leader applies the patch to its state)
			ctx, cancel := context.WithTimeout(r.Context(), consistentTimeout)
			cerr := rs.h.b.Confirm(ctx)
			cancel()
			if cerr == nil {
				cmd, rev, err = build()
			}
		}
		return cmd, rev, err
	}
	rs.h.commit(w, r, mutation{meta: meta, body: body, rebase: rebase, action: ActionServicePatch})
}

// parseServicePatch reads a merge patch of a service: a JSON object whose
// request fields (expect_revision, request_id, reason, wait, force) are
// returned apart. Read-only service fields are refused.
func parseServicePatch(body []byte) (map[string]any, RequestMeta, error) {
	var meta RequestMeta
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, meta, badRequest("request body is required: a JSON merge patch of the service")
	}
	v, err := decodeJSONValue(body)
	if err != nil {
		return nil, meta, err
	}
	p, ok := v.(map[string]any)
	if !ok {
		return nil, meta, badRequest("a merge patch of a service must be a JSON object")
	}
	m := map[string]any{}
	for _, k := range patchMetaKeys {
		if x, ok := p[k]; ok {
			if x != nil {
				m[k] = x
			}
			delete(p, k)
		}
	}
	if len(m) > 0 {
		raw, _ := json.Marshal(m)
		if err := decodeStrict(raw, &meta, false); err != nil {
			return nil, meta, err
		}
	}
	var ro []string
	for k := range p {
		if patchReadOnly[k] {
			ro = append(ro, k)
		}
	}
	if len(ro) > 0 {
		sort.Strings(ro)
		return nil, meta, badRequest("%s: read-only, a patch cannot change it", strings.Join(ro, ", "))
	}
	return p, meta, nil
}

// patchedSpec applies patch to svc as the API shows it and reads the
// result as a PUT body.
func patchedSpec(name string, svc *control.Service, patch map[string]any) (*control.ServiceSpec, error) {
	cur, err := json.Marshal(toService(svc))
	if err != nil {
		return nil, err
	}
	doc, err := decodeJSONValue(cur)
	if err != nil {
		return nil, err
	}
	merged, err := json.Marshal(mergePatch(doc, patch))
	if err != nil {
		return nil, badRequest("the patched service is not JSON: %v", err)
	}
	var in ServicePut
	if err := decodeStrict(merged, &in, true); err != nil {
		return nil, err
	}
	return serviceSpec(name, &in)
}

// decodeJSONValue decodes one JSON value, keeping numbers as written.
func decodeJSONValue(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest("invalid JSON body: %s", describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest("invalid JSON body: unexpected data after the JSON value")
	}
	return v, nil
}
