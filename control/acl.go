package control

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"time"
)

// Role is what an ACL token may do. Each role includes the ones before it:
// read < deploy < operator < admin.
type Role string

const (
	RoleRead     Role = "read"     // every GET
	RoleDeploy   Role = "deploy"   // deploy, switch, rollback, complete in scope
	RoleOperator Role = "operator" // service and zone put/delete, freeze, force
	RoleAdmin    Role = "admin"    // cluster membership and tokens
)

// Level orders roles; an unknown role is 0 and includes nothing.
func (r Role) Level() int {
	switch r {
	case RoleRead:
		return 1
	case RoleDeploy:
		return 2
	case RoleOperator:
		return 3
	case RoleAdmin:
		return 4
	}
	return 0
}

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool { return r.Level() > 0 }

// Includes reports whether a token of role r may do what needs role need.
func (r Role) Includes(need Role) bool { return r.Valid() && r.Level() >= need.Level() }

// Limits on tokens.
const (
	MaxTokenNameLen = 64
	MaxScopeEntries = 32
	// BootstrapTokenName names the token that ACL bootstrap creates.
	BootstrapTokenName = "bootstrap"
)

// Token is one ACL token as the replicated state holds it: never its
// secret, only the SHA-256 of it. Immutable once in a State.
type Token struct {
	ID         string    `json:"id"` // accessor: public, names the token
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	Scope      []string  `json:"scope,omitempty"` // canonical zone names or globs; empty = everything
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by,omitempty"`
	Index      uint64    `json:"index"`
	SecretHash string    `json:"secret_hash"` // hex SHA-256 of the secret
}

// TokenSpec is the body of a token create or an ACL bootstrap. The
// proposer generates ID and secret and sends only the secret's hash, so the
// secret never enters the log.
type TokenSpec struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Role       Role     `json:"role"`
	Scope      []string `json:"scope,omitempty"`
	SecretHash string   `json:"secret_hash"`
}

// HashSecret is the hash the state keeps of a token secret (hex SHA-256).
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Allows reports whether the token's scope covers canonical name n.
func (t *Token) Allows(n string) bool { return ScopeAllows(t.Scope, n) }

// ScopeAllows reports whether a scope covers canonical name n: an empty
// scope covers everything; a zone (or any plain name) covers itself and
// every name below it; a glob such as api.*.bg.example.com. matches names
// with as many labels, "*" standing for exactly one label.
func ScopeAllows(scope []string, n string) bool {
	if len(scope) == 0 {
		return true
	}
	for _, e := range scope {
		if !strings.Contains(e, "*") {
			if InZone(n, e) {
				return true
			}
			continue
		}
		if globMatch(e, n) {
			return true
		}
	}
	return false
}

func globMatch(glob, n string) bool {
	gl := strings.Split(strings.TrimSuffix(glob, "."), ".")
	nl := strings.Split(strings.TrimSuffix(n, "."), ".")
	if len(gl) != len(nl) {
		return false
	}
	for i := range gl {
		if gl[i] != "*" && gl[i] != nl[i] {
			return false
		}
	}
	return true
}

// normalizeScope canonicalises scope entries: names as CanonicalName
// writes them, "*" allowed only as a whole label.
func normalizeScope(in []string) ([]string, *Error) {
	if len(in) > MaxScopeEntries {
		return nil, Invalid("at most %d scope entries", MaxScopeEntries)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(in))
	for _, e := range in {
		raw := strings.ToLower(strings.TrimSpace(e))
		labels := strings.Split(strings.TrimSuffix(raw, "."), ".")
		probe := make([]string, len(labels))
		for i, l := range labels {
			if strings.Contains(l, "*") && l != "*" {
				return nil, Invalid("scope %q: \"*\" must be a whole label", e)
			}
			probe[i] = strings.ReplaceAll(l, "*", "x")
		}
		if _, err := CanonicalName(strings.Join(probe, ".")); err != nil {
			return nil, Invalid("scope %q: %s", e, err.(*Error).Message)
		}
		c := strings.Join(labels, ".") + "."
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		out = nil
	}
	return out, nil
}

// acl is the replicated ACL state: whether bootstrap happened and the live
// tokens, by id and by secret hash. Copied whole on change (tokens are few).
type acl struct {
	bootstrapped bool
	bootIndex    uint64
	tokens       map[string]*Token // by id
	byHash       map[string]string // secret hash -> id
}

func (a *acl) with(t *Token, drop string) *acl {
	n := &acl{tokens: map[string]*Token{}, byHash: map[string]string{}}
	if a != nil {
		n.bootstrapped, n.bootIndex = a.bootstrapped, a.bootIndex
		for id, v := range a.tokens {
			if id != drop {
				n.tokens[id] = v
				n.byHash[v.SecretHash] = id
			}
		}
	}
	if t != nil {
		n.tokens[t.ID] = t
		n.byHash[t.SecretHash] = t.ID
	}
	return n
}

// ACLBootstrapped reports whether ACL bootstrap has happened in this
// cluster (it is allowed once) and at which index.
func (s *State) ACLBootstrapped() (bool, uint64) {
	if s.acl == nil {
		return false, 0
	}
	return s.acl.bootstrapped, s.acl.bootIndex
}

// TokenByHash returns the live token whose secret hashes to h, or nil.
// The caller compares the hashes in constant time before trusting it.
func (s *State) TokenByHash(h string) *Token {
	if s.acl == nil {
		return nil
	}
	id, ok := s.acl.byHash[h]
	if !ok {
		return nil
	}
	return s.acl.tokens[id]
}

// Token returns the live token with id, or nil.
func (s *State) Token(id string) *Token {
	if s.acl == nil {
		return nil
	}
	return s.acl.tokens[id]
}

// Tokens returns the live tokens sorted by id.
func (s *State) Tokens() []*Token {
	if s.acl == nil {
		return nil
	}
	out := make([]*Token, 0, len(s.acl.tokens))
	for _, t := range s.acl.tokens {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ScopeTouches reports whether a scope covers any name in canonical zone
// z (or z itself): the zones a scoped token may see.
func ScopeTouches(scope []string, z string) bool {
	if len(scope) == 0 {
		return true
	}
	zl := strings.Split(strings.TrimSuffix(z, "."), ".")
	for _, e := range scope {
		if !strings.Contains(e, "*") {
			if InZone(e, z) || InZone(z, e) {
				return true
			}
			continue
		}
		gl := strings.Split(strings.TrimSuffix(e, "."), ".")
		if len(gl) < len(zl) {
			continue
		}
		match := true
		for i := 1; i <= len(zl); i++ {
			g := gl[len(gl)-i]
			if g != "*" && g != zl[len(zl)-i] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
