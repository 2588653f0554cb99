package api

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/bgdns/bgdns/control"
)

// DefaultHistoryLimit is how many audit records a history read returns
// when it names no limit.
const DefaultHistoryLimit = 100

// servicesResource serves /v1/services.
type servicesResource struct{ h *handler }

func (rs servicesResource) Routes() chi.Router {
	r := chi.NewRouter()
	read := rs.h.need(control.RoleRead, "")
	readOne := rs.h.need(control.RoleRead, "fqdn")
	deploy := rs.h.need(control.RoleDeploy, "fqdn")
	operate := rs.h.need(control.RoleOperator, "fqdn")
	r.With(read).Get("/", rs.list)
	r.Route("/{fqdn}", func(r chi.Router) {
		r.With(readOne).Get("/", rs.get)
		r.With(operate).Put("/", rs.put)
		r.With(operate).Patch("/", rs.patch)
		r.With(operate).Delete("/", rs.delete)
		r.With(readOne).Get("/history", rs.history)
		lc := lifecycleResource(rs)
		r.With(deploy).Post("/deploy", lc.deploy)
		r.With(deploy).Post("/switch", lc.switchColour)
		r.With(deploy).Post("/rollback", lc.rollback)
		r.With(deploy).Post("/complete", lc.complete)
		r.With(operate).Post("/freeze", rs.h.freezeHandler(control.OpFreeze, "fqdn"))
		r.With(operate).Post("/unfreeze", rs.h.freezeHandler(control.OpUnfreeze, "fqdn"))
	})
	return r
}

// list is GET /v1/services[?zone=Z].
func (rs servicesResource) list(w http.ResponseWriter, r *http.Request) {
	pg, err := readPage(r)
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	st := rs.h.b.State()
	var svcs []*control.Service
	if z := r.URL.Query().Get("zone"); z != "" {
		zn, err := control.CanonicalName(z)
		if err != nil {
			rs.h.writeError(w, r, err)
			return
		}
		if st.Zone(zn) == nil {
			rs.h.writeError(w, r, control.NotFound("zone %s not found", bare(zn)))
			return
		}
		svcs = st.ServicesInZone(zn)
	} else {
		svcs = st.Services()
	}
	var out ServiceList
	out.Services, out.NextCursor = visiblePage(r, pg, svcs, false, func(s *control.Service) string { return s.Name }, toService)
	writeJSON(w, http.StatusOK, out)
}

// lookup reads the {fqdn} parameter and the service it names.
func (rs servicesResource) lookup(w http.ResponseWriter, r *http.Request) (*control.Service, bool) {
	name, err := nameParam(r, "fqdn")
	if err != nil {
		rs.h.writeError(w, r, err)
		return nil, false
	}
	svc := rs.h.b.State().Service(name)
	if svc == nil {
		rs.h.writeError(w, r, control.NotFound("service %s not found", bare(name)))
		return nil, false
	}
	return svc, true
}

// get is GET /v1/services/{fqdn}; the ETag is the revision.
func (rs servicesResource) get(w http.ResponseWriter, r *http.Request) {
	svc, ok := rs.lookup(w, r)
	if !ok {
		return
	}
	w.Header().Set("ETag", etag(svc.Revision))
	writeJSON(w, http.StatusOK, rs.h.withWaiting(r.Context(), toService(svc)))
}

// put is PUT /v1/services/{fqdn}: create or replace.
func (rs servicesResource) put(w http.ResponseWriter, r *http.Request) {
	var in ServicePut
	name, body, ok := rs.h.readWrite(w, r, "fqdn", &in, true)
	if !ok {
		return
	}
	spec, err := serviceSpec(name, &in)
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	rs.h.commit(w, r, mutation{
		cmd:  control.Command{Op: control.OpServicePut, Name: name, Service: spec},
		meta: in.RequestMeta, body: body,
	})
}

func serviceSpec(name string, in *ServicePut) (*control.ServiceSpec, error) {
	if err := matchBodyName(name, in.Name); err != nil {
		return nil, err
	}
	active, err := control.ParseColour(in.Active)
	if err != nil {
		return nil, err
	}
	spec := &control.ServiceSpec{TTL: in.TTL, Active: active, NoTXT: in.NoTXT}
	in.ServiceSafety.applyTo(spec)
	if spec.Blue, err = pool(control.Blue, in.Blue); err != nil {
		return nil, err
	}
	if spec.Green, err = pool(control.Green, in.Green); err != nil {
		return nil, err
	}
	return spec, nil
}

func pool(c control.Colour, p *Pool) (*control.Pool, error) {
	if p == nil {
		return nil, nil
	}
	addrs, e := control.ParseAddrs(p.Addresses)
	if e != nil {
		return nil, control.Invalid("%s: %s", c, e.Message)
	}
	return &control.Pool{Version: p.Version, Addresses: addrs, Retired: p.Retired}, nil
}

// delete is DELETE /v1/services/{fqdn}.
func (rs servicesResource) delete(w http.ResponseWriter, r *http.Request) {
	var in ActionRequest
	name, body, ok := rs.h.readWrite(w, r, "fqdn", &in, false)
	if !ok {
		return
	}
	rs.h.commit(w, r, mutation{
		cmd:  control.Command{Op: control.OpServiceDelete, Name: name},
		meta: in.RequestMeta, body: body,
	})
}

// history is GET /v1/services/{fqdn}/history?limit=N, newest first. It
// still answers for a deleted service.
func (rs servicesResource) history(w http.ResponseWriter, r *http.Request) {
	name, err := nameParam(r, "fqdn")
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	limit := DefaultHistoryLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			rs.h.writeError(w, r, badRequest("limit %q is not a positive number", s))
			return
		}
		limit = min(n, control.MaxHistory)
	}
	recs, ok := rs.h.b.State().History(name, limit)
	if !ok {
		rs.h.writeError(w, r, control.NotFound("service %s has no history", bare(name)))
		return
	}
	if recs == nil {
		recs = []control.Record{}
	}
	writeJSON(w, http.StatusOK, History{Name: bare(name), Records: recs})
}
