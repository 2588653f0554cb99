package control

import (
	"net/netip"
	"sort"
)

// Limits on what a command may carry.
const (
	MaxPoolAddresses = 64
	MaxVersionLen    = 64
	MaxReasonLen     = 1024
	MaxActorLen      = 128
	MaxRequestIDLen  = 128
	MaxNS            = 13
)

// Normalize checks the shape of a command and puts its names and addresses
// in canonical form. It needs no State; Apply calls it again, so a command
// that reaches the log malformed still changes nothing.
func (c *Command) Normalize() *Error {
	if len(c.Reason) > MaxReasonLen {
		return Invalid("reason is longer than %d characters", MaxReasonLen)
	}
	if len(c.Actor) > MaxActorLen {
		return Invalid("actor is longer than %d characters", MaxActorLen)
	}
	if len(c.RequestID) > MaxRequestIDLen {
		return Invalid("request_id is longer than %d characters", MaxRequestIDLen)
	}
	if !printable(c.Reason) || !printable(c.Actor) || !printable(c.RequestID) {
		return Invalid("reason, actor and request_id must be printable text")
	}
	if len(c.OnBehalfOf) > MaxActorLen || !printable(c.OnBehalfOf) {
		return Invalid("on_behalf_of must be printable and at most %d characters", MaxActorLen)
	}
	if e := c.normalizeSafety(); e != nil {
		return e
	}
	switch c.Op {
	case OpACLBootstrap, OpTokenCreate:
		return c.normalizeToken()
	case OpTokenRevoke:
		return checkTokenID(c.Name)
	case OpMemberJoin, OpMemberRemove:
		return c.normalizeMember()
	}
	name, err := CanonicalName(c.Name)
	if err != nil {
		return err.(*Error)
	}
	c.Name = name
	switch c.Op {
	case OpZonePut:
		if c.Zone == nil {
			c.Zone = &ZoneSpec{}
		}
		return c.Zone.normalize(c.Name)
	case OpServicePut:
		if c.Service == nil {
			return BadRequest("missing service body")
		}
		return c.Service.normalize()
	case OpDeploy:
		if c.Deploy == nil {
			return BadRequest("missing deploy body")
		}
		if e := checkVersion(c.Deploy.Version); e != nil {
			return e
		}
		addrs, e := normalizeAddrs(c.Deploy.Addresses)
		if e != nil {
			return e
		}
		if len(addrs) == 0 {
			return Invalid("deploy needs at least one address")
		}
		if e := checkPoolAddrs(addrs); e != nil {
			return e
		}
		c.Deploy.Addresses = addrs
	case OpSwitch:
		if c.To != "" && !c.To.Valid() {
			return Invalid("unknown colour %q (want blue or green)", c.To)
		}
	case OpHealth:
		if c.Health == nil {
			return BadRequest("missing health body")
		}
		return c.Health.normalize()
	case OpRetireConfirmed:
		if c.Retire == nil || c.Retire.SwitchIndex == 0 || c.Retire.ConfirmedAt.IsZero() {
			return BadRequest("retire confirmation needs switch_index and confirmed_at")
		}
	case OpZoneDelete, OpServiceDelete, OpRollback, OpComplete, OpValidated, OpFreeze, OpUnfreeze:
	default:
		return BadRequest("unknown operation %q", c.Op)
	}
	return nil
}

func (z *ZoneSpec) normalize(zone string) *Error {
	s := &z.SOA
	var err error
	if s.MName == "" {
		s.MName = "ns1." + zone
	}
	if s.MName, err = CanonicalName(s.MName); err != nil {
		return Invalid("soa mname: %s", err.(*Error).Message)
	}
	if s.RName == "" {
		s.RName = "hostmaster." + zone
	}
	if s.RName, err = CanonicalName(s.RName); err != nil {
		return Invalid("soa rname: %s", err.(*Error).Message)
	}
	def := func(v *uint32, d uint32) {
		if *v == 0 {
			*v = d
		}
	}
	def(&s.Refresh, DefaultSOARefresh)
	def(&s.Retry, DefaultSOARetry)
	def(&s.Expire, DefaultSOAExpire)
	def(&s.Minimum, DefaultSOAMinimum)
	def(&s.TTL, DefaultSOATTL)
	for _, v := range []uint32{s.Refresh, s.Retry, s.Expire, s.Minimum, s.TTL} {
		if v > 1<<31-1 {
			return Invalid("soa timers must be below 2^31")
		}
	}
	if len(z.NS) == 0 && !z.NSAuto {
		z.NS = []string{s.MName}
	}
	if len(z.NS) > MaxNS {
		return Invalid("at most %d NS names", MaxNS)
	}
	seen := map[string]bool{}
	ns := make([]string, 0, len(z.NS))
	for _, n := range z.NS {
		c, err := CanonicalName(n)
		if err != nil {
			return Invalid("ns: %s", err.(*Error).Message)
		}
		if !seen[c] {
			seen[c] = true
			ns = append(ns, c)
		}
	}
	z.NS = ns
	glue := make(map[string][]netip.Addr, len(z.Glue))
	for host, addrs := range z.Glue {
		h, err := CanonicalName(host)
		if err != nil {
			return Invalid("glue: %s", err.(*Error).Message)
		}
		if !InZone(h, zone) || h == zone {
			return Invalid("glue for %s: only in-zone NS hosts take glue", h)
		}
		if !seen[h] {
			return Invalid("glue for %s: not one of the zone's NS names", h)
		}
		a, e := normalizeAddrs(addrs)
		if e != nil {
			return e
		}
		glue[h] = a
	}
	for _, h := range z.NS {
		if InZone(h, zone) && len(glue[h]) == 0 {
			return Invalid("NS %s is inside the zone and needs glue addresses", h)
		}
	}
	if len(glue) == 0 {
		glue = nil
	}
	z.Glue = glue
	return nil
}

func (s *ServiceSpec) normalize() *Error {
	if s.TTL == 0 {
		s.TTL = DefaultServiceTTL
	}
	if s.TTL > MaxTTL {
		return Invalid("ttl %d is above the maximum of %d", s.TTL, MaxTTL)
	}
	if s.Active == "" {
		s.Active = Blue
	}
	if !s.Active.Valid() {
		return Invalid("unknown colour %q (want blue or green)", s.Active)
	}
	for _, c := range []Colour{Blue, Green} {
		p := s.Blue
		if c == Green {
			p = s.Green
		}
		if p == nil {
			continue
		}
		if e := checkVersion(p.Version); e != nil {
			return Invalid("%s: %s", c, e.Message)
		}
		addrs, e := normalizeAddrs(p.Addresses)
		if e == nil {
			e = checkPoolAddrs(addrs)
		}
		if e != nil {
			return Invalid("%s: %s", c, e.Message)
		}
		np := &Pool{Version: p.Version, Addresses: addrs, Retired: p.Retired}
		if c == Blue {
			s.Blue = np
		} else {
			s.Green = np
		}
	}
	active := s.Blue
	if s.Active == Green {
		active = s.Green
	}
	if !active.HasAddresses() {
		return Invalid("the active colour %s needs at least one address", s.Active)
	}
	return s.normalizeSafety()
}

func checkVersion(v string) *Error {
	if v == "" {
		return Invalid("version is required")
	}
	if len(v) > MaxVersionLen {
		return Invalid("version is longer than %d characters", MaxVersionLen)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == '_' || c == '+'
		if !ok {
			return Invalid("version %q may hold only letters, digits and . - _ +", v)
		}
	}
	return nil
}

// normalizeAddrs unmaps IPv4-in-IPv6, rejects unusable addresses and
// duplicates, and sorts: IPv4 before IPv6, each in address order.
func normalizeAddrs(in []netip.Addr) ([]netip.Addr, *Error) {
	if len(in) > MaxPoolAddresses {
		return nil, Invalid("at most %d addresses per pool", MaxPoolAddresses)
	}
	out := make([]netip.Addr, 0, len(in))
	seen := make(map[netip.Addr]bool, len(in))
	for _, a := range in {
		if !a.IsValid() {
			return nil, Invalid("invalid address")
		}
		a = a.Unmap().WithZone("")
		if a.IsUnspecified() || a.IsMulticast() {
			return nil, Invalid("address %s is not a usable unicast address", a)
		}
		if seen[a] {
			return nil, Invalid("address %s is listed twice", a)
		}
		seen[a] = true
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out, nil
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// ParseAddrs parses textual addresses, for callers that read them from
// JSON or flags.
func ParseAddrs(in []string) ([]netip.Addr, *Error) {
	out := make([]netip.Addr, 0, len(in))
	for _, s := range in {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, Invalid("invalid address %q", s)
		}
		out = append(out, a)
	}
	return out, nil
}
