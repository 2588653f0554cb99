package api

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/bgdns/bgdns/control"
)

// Headers that carry a token secret.
const (
	HeaderToken = "X-Bgdns-Token"
	// MemberServerName is the DNS SAN of a cluster member's certificate.
	MemberServerName = "server.bgdns"
	// ManagementActor names the --api-token in the history.
	ManagementActor = "management"
)

// Error codes of authorization.
const (
	CodeForbidden        control.Code = "forbidden"
	CodeUnsupportedMedia control.Code = "unsupported_media_type"
)

// identity is who a request acts as, once authenticated.
type identity struct {
	kind  identityKind
	name  string // the token's name, for the history
	role  control.Role
	scope []string
}

type identityKind int

const (
	// open: no ACLs; the actor is what the client says (X-Bgdns-Actor).
	identityOpen identityKind = iota
	identityManagement
	identityToken
	identityMember
	// identityNone: ACLs on, no credentials; only bootstrap is allowed.
	identityNone
)

type identityKey struct{}

func identityOf(r *http.Request) identity {
	if id, ok := r.Context().Value(identityKey{}).(identity); ok {
		return id
	}
	return identity{kind: identityNone}
}

// actor is who the history names for a write and, when the actor comes
// from the token, the client-supplied X-Bgdns-Actor kept as on_behalf_of.
func (id identity) actor(r *http.Request) (actor, onBehalfOf string) {
	claimed := strings.TrimSpace(r.Header.Get(HeaderActor))
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || host == "" {
		host = "unknown"
	}
	switch id.kind {
	case identityToken, identityManagement, identityMember:
		return id.name, claimed
	case identityNone:
		// an ACL bootstrap: nobody is authenticated yet
		return "anonymous@" + host, claimed
	}
	if claimed != "" {
		return claimed, ""
	}
	if host == "unknown" {
		return "api", ""
	}
	return "api@" + host, ""
}

// secretOf reads "Authorization: Bearer <secret>" or X-Bgdns-Token.
func secretOf(r *http.Request) (string, bool) {
	if v := r.Header.Get("Authorization"); v != "" {
		s, ok := strings.CutPrefix(v, "Bearer ")
		s = strings.TrimSpace(s)
		return s, ok && s != ""
	}
	if v := strings.TrimSpace(r.Header.Get(HeaderToken)); v != "" {
		return v, true
	}
	return "", false
}

// isMember reports whether the request came over TLS with a verified
// client certificate naming server.bgdns: another node of the cluster.
func isMember(r *http.Request) (string, bool) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.PeerCertificates) == 0 {
		return "", false
	}
	leaf := r.TLS.PeerCertificates[0]
	if !slices.Contains(leaf.DNSNames, MemberServerName) {
		return "", false
	}
	name := leaf.Subject.CommonName
	if name == "" {
		name = MemberServerName
	}
	return name, true
}

// sees reports whether the identity's scope covers canonical name n (a
// service) or, with zone set, reaches into zone n.
func (id identity) sees(n string, zone bool) bool {
	if zone {
		return control.ScopeTouches(id.scope, n)
	}
	return control.ScopeAllows(id.scope, n)
}

func unauthorized(msg string) error { return &control.Error{Code: CodeUnauthorized, Message: msg} }
func forbidden(format string, a ...any) error {
	return &control.Error{Code: CodeForbidden, Message: control.BadRequest(format, a...).Message}
}

// authenticate finds who the request acts as. Without ACLs, --api-token
// (when set) is required and the client names the actor. With ACLs, the
// secret must be --api-token or a live token of the replicated state; a
// cluster member's certificate alone allows reads.
func (h *handler) authenticate(r *http.Request) (identity, error) {
	secret, hasSecret := secretOf(r)
	mgmt := []byte(h.opts.Token)
	isMgmt := hasSecret && len(mgmt) > 0 && subtle.ConstantTimeCompare([]byte(secret), mgmt) == 1
	if !h.opts.ACL {
		if len(mgmt) > 0 && !isMgmt {
			return identity{}, unauthorized("a valid bearer token is required")
		}
		return identity{kind: identityOpen, role: control.RoleAdmin}, nil
	}
	if isMgmt {
		return identity{kind: identityManagement, name: ManagementActor, role: control.RoleAdmin}, nil
	}
	if hasSecret {
		hash := control.HashSecret(secret)
		t := h.b.State().TokenByHash(hash)
		if t == nil || subtle.ConstantTimeCompare([]byte(hash), []byte(t.SecretHash)) != 1 {
			return identity{}, unauthorized("the token is not known (wrong, or revoked)")
		}
		return identity{kind: identityToken, name: t.Name, role: t.Role, scope: t.Scope}, nil
	}
	if name, ok := isMember(r); ok {
		return identity{kind: identityMember, name: "member:" + name, role: control.RoleRead}, nil
	}
	if ok, _ := h.b.State().ACLBootstrapped(); !ok && len(mgmt) == 0 {
		return identity{kind: identityNone}, unauthorized("ACLs are on and not bootstrapped yet: run `bgdns acl bootstrap` (POST /v1/acl/bootstrap)")
	}
	return identity{kind: identityNone}, unauthorized("a token is required: Authorization: Bearer <secret> or " + HeaderToken)
}

// auth authenticates every /v1 request; POST /v1/acl/bootstrap passes
// without credentials when ACLs are on (its handler allows it once).
func (h *handler) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := h.authenticate(r)
		if err != nil {
			if !(h.opts.ACL && r.Method == http.MethodPost && r.URL.Path == "/v1/acl/bootstrap") {
				h.writeError(w, r, err)
				return
			}
			id = identity{kind: identityNone}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

// need authorizes a route: the identity's role must include role and,
// when param names a path parameter, its scope must cover that zone or
// service name. A cluster member only reads. Tokens and membership (admin
// routes without a name) need a token without scope. Lists filter what a
// scoped token sees themselves.
func (h *handler) need(role control.Role, param string) func(http.Handler) http.Handler {
	return h.needScope(role, param, control.ScopeAllows)
}

// needZoneRead authorizes reading a zone: a scoped token sees the zones
// its scope reaches into (the zones of the services it may change).
func (h *handler) needZoneRead(param string) func(http.Handler) http.Handler {
	return h.needScope(control.RoleRead, param, control.ScopeTouches)
}

func (h *handler) needScope(role control.Role, param string, covers func([]string, string) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := authorize(identityOf(r), role, r, param, covers); err != nil {
				h.writeError(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func authorize(id identity, role control.Role, r *http.Request, param string, covers func([]string, string) bool) error {
	switch {
	case id.kind == identityNone:
		return unauthorized("a token is required")
	case id.kind == identityMember && r.Method != http.MethodGet && r.Method != http.MethodHead:
		return forbidden("a cluster member's certificate only reads; send a token to change anything")
	case !id.role.Includes(role):
		return forbidden("%s %s needs a token of role %s or above; %q has role %s", r.Method, r.URL.Path, role, id.name, id.role)
	}
	if len(id.scope) == 0 {
		return nil
	}
	if param == "" {
		if role == control.RoleAdmin {
			return forbidden("%s %s needs an admin token without scope", r.Method, r.URL.Path)
		}
		return nil
	}
	name, err := nameParam(r, param)
	if err != nil {
		return nil // the handler answers the bad name
	}
	if !covers(id.scope, name) {
		return forbidden("%s is outside the scope of token %q (%s)", bare(name), id.name, strings.Join(id.scope, ", "))
	}
	return nil
}
