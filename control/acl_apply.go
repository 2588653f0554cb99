package control

import "strings"

// Limits on a token's accessor id.
const MaxTokenIDLen = 64

// normalizeToken checks a token create or bootstrap body.
func (c *Command) normalizeToken() *Error {
	t := c.Token
	if t == nil {
		return BadRequest("missing token body")
	}
	if c.Op == OpACLBootstrap {
		if t.Name == "" {
			t.Name = BootstrapTokenName
		}
		if t.Role == "" {
			t.Role = RoleAdmin
		}
		if t.Role != RoleAdmin || len(t.Scope) > 0 {
			return Invalid("the bootstrap token is an admin token without scope")
		}
	}
	if e := checkTokenID(t.ID); e != nil {
		return e
	}
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		return Invalid("token name is required")
	}
	if len(t.Name) > MaxTokenNameLen || !printable(t.Name) {
		return Invalid("token name must be printable and at most %d characters", MaxTokenNameLen)
	}
	if !t.Role.Valid() {
		return Invalid("unknown role %q (want read, deploy, operator or admin)", t.Role)
	}
	scope, e := normalizeScope(t.Scope)
	if e != nil {
		return e
	}
	t.Scope = scope
	if t.Role == RoleAdmin && len(t.Scope) > 0 {
		// admin rights (membership, tokens) are cluster-wide: a scope
		// would be either ignored or a trap
		return Invalid("an admin token covers the whole cluster: give it no scope, or make it an operator token scoped to %s", strings.Join(t.Scope, ", "))
	}
	if len(t.SecretHash) != 64 || strings.Trim(t.SecretHash, "0123456789abcdef") != "" {
		return BadRequest("secret_hash must be a hex SHA-256")
	}
	c.Name = t.ID
	return nil
}

func checkTokenID(id string) *Error {
	if id == "" || len(id) > MaxTokenIDLen {
		return Invalid("token id must be 1 to %d characters", MaxTokenIDLen)
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
			return Invalid("token id %q may hold only lower-case letters, digits and '-'", id)
		}
	}
	return nil
}

func (s *State) applyACLBootstrap(cmd Command) (Result, *Error) {
	if ok, at := s.ACLBootstrapped(); ok {
		return Result{}, Conflict("ACL bootstrap was already done (at index %d); it is allowed once per cluster", at)
	}
	res, err := s.applyTokenCreate(cmd)
	if err != nil {
		return res, err
	}
	s.acl.bootstrapped, s.acl.bootIndex = true, s.index
	return res, nil
}

func (s *State) applyTokenCreate(cmd Command) (Result, *Error) {
	sp := cmd.Token
	if s.Token(sp.ID) != nil {
		return Result{}, Conflict("token id %s already exists", sp.ID)
	}
	if s.TokenByHash(sp.SecretHash) != nil {
		return Result{}, Conflict("a token with this secret already exists")
	}
	for _, t := range s.Tokens() {
		if t.Name == sp.Name {
			return Result{}, Conflict("a token named %q already exists (id %s)", sp.Name, t.ID)
		}
	}
	if n := len(s.Tokens()); n >= quota.MaxTokens {
		return Result{}, QuotaExceeded("at most %d tokens", quota.MaxTokens)
	}
	t := &Token{ID: sp.ID, Name: sp.Name, Role: sp.Role, Scope: sp.Scope, CreatedAt: cmd.Time,
		CreatedBy: cmd.Actor, Index: s.index, SecretHash: sp.SecretHash}
	s.acl = s.acl.with(t, "")
	s.size += tokenSize(t)
	s.audited(cmd, t.ID, "", t.describe())
	return Result{Token: t}, nil
}

func (s *State) applyTokenRevoke(cmd Command) (Result, *Error) {
	t := s.Token(cmd.Name)
	if t == nil {
		return Result{}, NotFound("token %s not found", cmd.Name)
	}
	s.acl = s.acl.with(nil, t.ID)
	s.size -= tokenSize(t)
	s.audited(cmd, t.ID, t.describe(), "")
	return Result{Token: t}, nil
}

// describe names a token for its audit records: name, role and scope.
func (t *Token) describe() string {
	d := t.Name + " " + string(t.Role)
	if len(t.Scope) > 0 {
		d += " scope " + strings.Join(t.Scope, ",")
	}
	return d
}
