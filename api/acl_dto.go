package api

import (
	"time"

	"github.com/bgdns/bgdns/control"
)

// TokenCreate is the body of POST /v1/acl/tokens. Scope lists zone names
// or name globs (api.*.bg.example.com); empty means everything.
type TokenCreate struct {
	RequestMeta
	Name  string   `json:"name"`
	Role  string   `json:"role"`
	Scope []string `json:"scope,omitempty"`
}

// TokenInfo is a token as the API shows it: never its secret nor its hash.
type TokenInfo struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Scope     []string  `json:"scope"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	Index     uint64    `json:"index"`
}

// TokenChange answers bootstrap, create and revoke. Secret is set only
// when the token was just made: it is shown once.
type TokenChange struct {
	Index     uint64     `json:"index"`
	RequestID string     `json:"request_id,omitempty"`
	Duplicate bool       `json:"duplicate,omitempty"`
	Token     *TokenInfo `json:"token"`
	Secret    string     `json:"secret,omitempty"`
}

// TokenList is GET /v1/acl/tokens.
type TokenList struct {
	Tokens     []*TokenInfo `json:"tokens"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// AuditList is GET /v1/audit: records of zone, membership and token
// changes, newest first.
type AuditList struct {
	Records    []control.Record `json:"records"`
	NextCursor string           `json:"next_cursor,omitempty"`
}

func toToken(t *control.Token) *TokenInfo {
	if t == nil {
		return &TokenInfo{Scope: []string{}}
	}
	scope := make([]string, len(t.Scope))
	for i, s := range t.Scope {
		scope[i] = bare(s)
	}
	return &TokenInfo{ID: t.ID, Name: t.Name, Role: string(t.Role), Scope: scope,
		CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy, Index: t.Index}
}
