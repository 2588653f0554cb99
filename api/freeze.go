package api

import (
	"net/http"

	"github.com/bgdns/bgdns/control"
)

// freezeHandler serves POST .../freeze and .../unfreeze for the service or
// zone named by URL parameter param: a frozen service (or every service of
// a frozen zone) refuses switches until unfrozen, unless forced with a
// reason.
func (h *handler) freezeHandler(op control.Op, param string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in ActionRequest
		name, body, ok := h.readWrite(w, r, param, &in, false)
		if !ok {
			return
		}
		st := h.b.State()
		if param == "zone" && st.Zone(name) == nil {
			h.writeError(w, r, control.NotFound("zone %s not found", bare(name)))
			return
		}
		if param == "fqdn" && st.Service(name) == nil {
			h.writeError(w, r, control.NotFound("service %s not found", bare(name)))
			return
		}
		h.commit(w, r, mutation{cmd: control.Command{Op: op, Name: name}, meta: in.RequestMeta, body: body})
	}
}
