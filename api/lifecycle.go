package api

import (
	"net/http"

	"github.com/bgdns/bgdns/control"
)

// lifecycleResource serves the blue-green steps under
// /v1/services/{fqdn}: deploy, switch, rollback, complete.
type lifecycleResource struct{ h *handler }

func (rs lifecycleResource) deploy(w http.ResponseWriter, r *http.Request) {
	var in DeployRequest
	name, body, ok := rs.h.readWrite(w, r, "fqdn", &in, true)
	if !ok {
		return
	}
	addrs, e := control.ParseAddrs(in.Addresses)
	if e != nil {
		rs.h.writeError(w, r, e)
		return
	}
	rs.h.commit(w, r, mutation{
		cmd: control.Command{Op: control.OpDeploy, Name: name,
			Deploy: &control.DeploySpec{Version: in.Version, Addresses: addrs}},
		meta: in.RequestMeta, body: body,
	})
}

func (rs lifecycleResource) switchColour(w http.ResponseWriter, r *http.Request) {
	var in SwitchRequest
	name, body, ok := rs.h.readWrite(w, r, "fqdn", &in, false)
	if !ok {
		return
	}
	to, err := control.ParseColour(in.To)
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	rs.h.commit(w, r, mutation{
		cmd:  control.Command{Op: control.OpSwitch, Name: name, To: to},
		meta: in.RequestMeta, body: body,
	})
}

func (rs lifecycleResource) rollback(w http.ResponseWriter, r *http.Request) {
	rs.action(w, r, control.OpRollback)
}

func (rs lifecycleResource) complete(w http.ResponseWriter, r *http.Request) {
	rs.action(w, r, control.OpComplete)
}

// action runs a step whose body only carries the request fields.
func (rs lifecycleResource) action(w http.ResponseWriter, r *http.Request, op control.Op) {
	var in ActionRequest
	name, body, ok := rs.h.readWrite(w, r, "fqdn", &in, false)
	if !ok {
		return
	}
	rs.h.commit(w, r, mutation{cmd: control.Command{Op: op, Name: name}, meta: in.RequestMeta, body: body})
}
