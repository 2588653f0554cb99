package peer

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/bgdns/bgdns/control"
)

// MaxNodeID is the longest node id a cluster accepts.
const MaxNodeID = 128

// maxAddr bounds every address in a join request.
const maxAddr = 256

// CheckNodeID reports whether id can name a cluster member: not empty, at
// most MaxNodeID characters, no spaces, slashes or control characters.
func CheckNodeID(id string) error {
	if id == "" {
		return control.Invalid("node id is required")
	}
	if len(id) > MaxNodeID {
		return control.Invalid("node id is longer than %d characters", MaxNodeID)
	}
	for _, c := range id {
		if c <= 0x20 || c == 0x7f || c == '/' {
			return control.Invalid("node id %q may not hold spaces, slashes or control characters", id)
		}
	}
	return nil
}

// Validate checks a join request's shape: the id as CheckNodeID, raft_addr
// and dns_addr (when given) as host:port, http_addr (when given) as
// host:port or an http(s) URL with a host, role (when given) as voter or
// edge, agreeing with non_voter. Both the API and the cluster
// node run it, so they accept and refuse the same requests.
func (r JoinRequest) Validate() error {
	if err := CheckNodeID(r.ID); err != nil {
		return err
	}
	if !validHostPort(r.RaftAddr) {
		return control.Invalid("raft_addr %q is not host:port", r.RaftAddr)
	}
	if r.HTTPAddr != "" && !validHTTPAddr(r.HTTPAddr) {
		return control.Invalid("http_addr %q is neither host:port nor a URL such as http://127.0.0.1:8053", r.HTTPAddr)
	}
	if r.DNSAddr != "" && !validHostPort(r.DNSAddr) {
		return control.Invalid("dns_addr %q is not host:port", r.DNSAddr)
	}
	if err := CheckRole(r.Role); err != nil {
		return err
	}
	if r.Role == RoleVoter && r.NonVoter {
		return control.Invalid(`role "voter" and non_voter disagree`)
	}
	if r.NSName != "" {
		if _, err := control.CanonicalName(r.NSName); err != nil {
			return control.Invalid("ns_name %q is not a host name", r.NSName)
		}
	}
	return nil
}

// validHTTPAddr accepts host:port or an http(s) URL with a host.
func validHTTPAddr(s string) bool {
	if len(s) > maxAddr {
		return false
	}
	if validHostPort(s) {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// validHostPort accepts host:port with a numeric port and a host free of
// spaces, slashes and control characters.
func validHostPort(s string) bool {
	if len(s) > maxAddr {
		return false
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || strings.ContainsFunc(host, func(c rune) bool { return c <= 0x20 || c == 0x7f || c == '/' }) {
		return false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	return err == nil && n > 0
}
