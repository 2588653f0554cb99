package api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/bgdns/bgdns/control"
)

// SecretPrefix starts every token secret, so that a leaked one is easy to
// recognise (and to scan for).
const SecretPrefix = "bgdns_"

// aclResource serves /v1/acl: bootstrap and tokens.
type aclResource struct{ h *handler }

func (rs aclResource) Routes() chi.Router {
	r := chi.NewRouter()
	admin := rs.h.need(control.RoleAdmin, "")
	r.Post("/bootstrap", rs.bootstrap)
	r.With(admin).Get("/tokens", rs.list)
	r.With(admin).Post("/tokens", rs.create)
	r.With(admin).Get("/tokens/{id}", rs.get)
	r.With(admin).Delete("/tokens/{id}", rs.revoke)
	return r
}

// newSecret returns a fresh token id (accessor) and secret: 128 and 256
// random bits.
func newSecret() (id, secret string) {
	var a [16]byte
	var s [32]byte
	_, _ = rand.Read(a[:])
	_, _ = rand.Read(s[:])
	h := hex.EncodeToString(a[:])
	id = h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	return id, SecretPrefix + base64.RawURLEncoding.EncodeToString(s[:])
}

// NewTokenSecret returns a fresh token id and secret, for a program that
// proposes ACL commands itself (bgdns dev bootstraps its own cluster).
func NewTokenSecret() (id, secret string) { return newSecret() }

// bootstrap is POST /v1/acl/bootstrap: once per cluster, it creates the
// first admin token and returns its secret. Afterwards it is 409.
func (rs aclResource) bootstrap(w http.ResponseWriter, r *http.Request) {
	var in ActionRequest
	body, err := rs.h.readJSON(r, &in, false)
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	if identityOf(r).kind == identityMember {
		rs.h.writeError(w, r, forbidden("a cluster member's certificate only reads"))
		return
	}
	if ok, at := rs.h.b.State().ACLBootstrapped(); ok {
		rs.h.writeError(w, r, control.Conflict("ACL bootstrap was already done (at index %d); it is allowed once per cluster", at))
		return
	}
	id, secret := newSecret()
	rs.h.commitToken(w, r, mutation{
		cmd: control.Command{Op: control.OpACLBootstrap, Token: &control.TokenSpec{
			ID: id, Name: control.BootstrapTokenName, Role: control.RoleAdmin, SecretHash: control.HashSecret(secret)}},
		meta: in.RequestMeta, body: body,
	}, secret)
}

func (rs aclResource) create(w http.ResponseWriter, r *http.Request) {
	var in TokenCreate
	body, err := rs.h.readJSON(r, &in, true)
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	id, secret := newSecret()
	rs.h.commitToken(w, r, mutation{
		cmd: control.Command{Op: control.OpTokenCreate, Token: &control.TokenSpec{
			ID: id, Name: in.Name, Role: control.Role(in.Role), Scope: in.Scope, SecretHash: control.HashSecret(secret)}},
		meta: in.RequestMeta, body: body,
	}, secret)
}

func (rs aclResource) list(w http.ResponseWriter, r *http.Request) {
	pg, err := readPage(r)
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	ts := rs.h.b.State().Tokens()
	start, end, next := pg.window(len(ts), func(i int) string { return ts[i].ID })
	out := TokenList{Tokens: make([]*TokenInfo, 0, end-start), NextCursor: next}
	for _, t := range ts[start:end] {
		out.Tokens = append(out.Tokens, toToken(t))
	}
	writeJSON(w, http.StatusOK, out)
}

func tokenParam(r *http.Request) string {
	id := chi.URLParam(r, "id")
	if s, err := url.PathUnescape(id); err == nil {
		id = s
	}
	return id
}

func (rs aclResource) get(w http.ResponseWriter, r *http.Request) {
	t := rs.h.b.State().Token(tokenParam(r))
	if t == nil {
		rs.h.writeError(w, r, control.NotFound("token %s not found", tokenParam(r)))
		return
	}
	writeJSON(w, http.StatusOK, toToken(t))
}

// revoke is DELETE /v1/acl/tokens/{id}: the token stops working on every
// node as soon as each applies the entry.
func (rs aclResource) revoke(w http.ResponseWriter, r *http.Request) {
	var in ActionRequest
	body, err := rs.h.readJSON(r, &in, false)
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	rs.h.commitToken(w, r, mutation{
		cmd:  control.Command{Op: control.OpTokenRevoke, Name: tokenParam(r)},
		meta: in.RequestMeta, body: body,
	}, "")
}

// commitToken proposes a token command and answers the token, with the
// secret when one was made (it is shown once and never stored or logged).
func (h *handler) commitToken(w http.ResponseWriter, r *http.Request, m mutation, secret string) {
	cmd := m.cmd
	var err error
	if cmd.RequestID, err = requestID(r, m.meta.RequestID); err != nil {
		h.writeError(w, r, err)
		return
	}
	id := identityOf(r)
	cmd.Actor, cmd.OnBehalfOf = id.actor(r)
	cmd.Reason = m.meta.Reason
	res, ok := h.propose(w, r, &cmd, m.body, id)
	if !ok {
		return
	}
	out := TokenChange{Index: res.Index, RequestID: cmd.RequestID, Duplicate: res.Duplicate, Token: toToken(res.Token)}
	if !res.Duplicate && cmd.Op != control.OpTokenRevoke {
		out.Secret = secret
	}
	h.logChange(cmd, res, "")
	writeJSON(w, http.StatusOK, out)
}

// audit is GET /v1/audit: zone, membership and token changes, newest
// first, paginated by ?limit= and ?cursor=.
func (h *handler) audit(w http.ResponseWriter, r *http.Request) {
	pg, err := readPage(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	recs := h.b.State().Audit(control.MaxHistory)
	if id := identityOf(r); len(id.scope) > 0 {
		// a scoped token sees the changes of zones in its scope only
		seen := make([]control.Record, 0, len(recs))
		for _, rec := range recs {
			if isZoneOp(rec.Action) && id.sees(rec.Target, true) {
				seen = append(seen, rec)
			}
		}
		recs = seen
	}
	// newest first: keys descend, so the page walks a reversed key
	key := func(i int) string { return indexKey(^recs[i].Index) }
	start, end, next := pg.window(len(recs), key)
	out := AuditList{Records: append([]control.Record{}, recs[start:end]...), NextCursor: next}
	writeJSON(w, http.StatusOK, out)
}

func isZoneOp(op control.Op) bool {
	switch op {
	case control.OpZonePut, control.OpZoneDelete, control.OpFreeze, control.OpUnfreeze:
		return true
	}
	return false
}

// indexKey orders uint64s as strings.
func indexKey(n uint64) string {
	var b [16]byte
	const digits = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}
