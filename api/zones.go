package api

import (
	"net/http"
	"net/netip"

	"github.com/go-chi/chi/v5"

	"github.com/bgdns/bgdns/control"
)

// zonesResource serves /v1/zones.
type zonesResource struct{ h *handler }

func (rs zonesResource) Routes() chi.Router {
	r := chi.NewRouter()
	read := rs.h.need(control.RoleRead, "")
	operate := rs.h.need(control.RoleOperator, "zone")
	r.With(read).Get("/", rs.list)
	r.Route("/{zone}", func(r chi.Router) {
		r.With(rs.h.needZoneRead("zone")).Get("/", rs.get)
		r.With(operate).Put("/", rs.put)
		r.With(operate).Delete("/", rs.delete)
		r.With(operate).Post("/freeze", rs.h.freezeHandler(control.OpFreeze, "zone"))
		r.With(operate).Post("/unfreeze", rs.h.freezeHandler(control.OpUnfreeze, "zone"))
	})
	return r
}

func (rs zonesResource) list(w http.ResponseWriter, r *http.Request) {
	pg, err := readPage(r)
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	var out ZoneList
	out.Zones, out.NextCursor = visiblePage(r, pg, rs.h.b.State().Zones(), true, func(z *control.Zone) string { return z.Name }, toZone)
	writeJSON(w, http.StatusOK, out)
}

func (rs zonesResource) get(w http.ResponseWriter, r *http.Request) {
	name, err := nameParam(r, "zone")
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	z := rs.h.b.State().Zone(name)
	if z == nil {
		rs.h.writeError(w, r, control.NotFound("zone %s not found", bare(name)))
		return
	}
	w.Header().Set("ETag", etag(z.Revision))
	writeJSON(w, http.StatusOK, toZone(z))
}

// put is PUT /v1/zones/{zone}: create or replace; every field defaults.
func (rs zonesResource) put(w http.ResponseWriter, r *http.Request) {
	var in ZonePut
	name, body, ok := rs.h.readWrite(w, r, "zone", &in, false)
	if !ok {
		return
	}
	spec, err := zoneSpec(name, &in)
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	rs.h.commit(w, r, mutation{
		cmd:  control.Command{Op: control.OpZonePut, Name: name, Zone: spec},
		meta: in.RequestMeta, body: body,
	})
}

func zoneSpec(name string, in *ZonePut) (*control.ZoneSpec, error) {
	if err := matchBodyName(name, in.Name); err != nil {
		return nil, err
	}
	spec := &control.ZoneSpec{NS: in.NS, Frozen: in.Frozen, AllowLoopback: in.AllowLoopback}
	if in.NS.Auto() {
		if len(in.Glue) > 0 {
			return nil, control.Invalid(`"ns":"auto" takes its glue from the members; give no glue`)
		}
		spec.NS, spec.NSAuto = nil, true
	}
	if s := in.SOA; s != nil {
		spec.SOA = control.SOA{MName: s.MName, RName: s.RName, Refresh: s.Refresh,
			Retry: s.Retry, Expire: s.Expire, Minimum: s.Minimum, TTL: s.TTL}
	}
	if len(in.Glue) > 0 {
		spec.Glue = make(map[string][]netip.Addr, len(in.Glue))
		for host, list := range in.Glue {
			addrs, e := control.ParseAddrs(list)
			if e != nil {
				return nil, control.Invalid("glue for %s: %s", host, e.Message)
			}
			spec.Glue[host] = addrs
		}
	}
	return spec, nil
}

func (rs zonesResource) delete(w http.ResponseWriter, r *http.Request) {
	var in ActionRequest
	name, body, ok := rs.h.readWrite(w, r, "zone", &in, false)
	if !ok {
		return
	}
	rs.h.commit(w, r, mutation{
		cmd:  control.Command{Op: control.OpZoneDelete, Name: name},
		meta: in.RequestMeta, body: body,
	})
}
