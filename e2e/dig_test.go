package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RR is one resource record as dig prints it.
type RR struct {
	Name  string
	TTL   uint32
	Class string
	Type  string
	Data  string // rdata as dig prints it (TXT keeps its quotes)
}

// DNSAnswer is dig's view of one response.
type DNSAnswer struct {
	Status     string   // NOERROR, NXDOMAIN, REFUSED, SERVFAIL, ...
	Flags      []string // qr, aa, tc, rd, ra, ...
	Answer     []RR
	Authority  []RR
	Additional []RR
	Raw        string // dig's whole output, for failure messages
}

// HasFlag reports whether the header flag f (e.g. "aa") is set.
func (a *DNSAnswer) HasFlag(f string) bool {
	for _, x := range a.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// Values returns the sorted rdata of the answer records of type typ
// (all answer records when typ is empty).
func (a *DNSAnswer) Values(typ string) []string {
	return values(a.Answer, typ)
}

// AuthorityValues is Values for the authority section.
func (a *DNSAnswer) AuthorityValues(typ string) []string {
	return values(a.Authority, typ)
}

// AdditionalValues is Values for the additional section.
func (a *DNSAnswer) AdditionalValues(typ string) []string {
	return values(a.Additional, typ)
}

func values(rrs []RR, typ string) []string {
	var out []string
	for _, rr := range rrs {
		if typ == "" || rr.Type == typ {
			out = append(out, rr.Data)
		}
	}
	sort.Strings(out)
	return out
}

// TXT returns the text of the answer's TXT records, each record's strings
// joined with a space and unquoted.
func (a *DNSAnswer) TXT() []string {
	var out []string
	for _, rr := range a.Answer {
		if rr.Type == "TXT" {
			out = append(out, unquoteTXT(rr.Data))
		}
	}
	return out
}

// SOASerial returns the serial of the first SOA in the answer or authority
// section, and false when there is none.
func (a *DNSAnswer) SOASerial() (uint32, bool) {
	for _, sec := range [][]RR{a.Answer, a.Authority} {
		for _, rr := range sec {
			if rr.Type != "SOA" {
				continue
			}
			f := strings.Fields(rr.Data)
			if len(f) < 3 {
				return 0, false
			}
			s, err := strconv.ParseUint(f[2], 10, 32)
			return uint32(s), err == nil
		}
	}
	return 0, false
}

// Dig runs `dig +norec +time=1 +tries=1 -p PORT @HOST NAME TYPE [opts...]`
// against addr (host:port) and parses what it prints. A dig that gets no
// answer fails the test; use DigE to poll.
func Dig(t testing.TB, addr, name, qtype string, opts ...string) *DNSAnswer {
	t.Helper()
	a, err := DigE(addr, name, qtype, opts...)
	if err != nil {
		t.Fatalf("dig %s %s @%s: %v", name, qtype, addr, err)
	}
	return a
}

// DigE is Dig returning an error instead of failing the test.
func DigE(addr, name, qtype string, opts ...string) (*DNSAnswer, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	args := []string{"+norec", "+time=1", "+tries=1", "-p", port, "@" + host}
	args = append(args, opts...)
	args = append(args, name, qtype)
	var out []byte
	for try := 1; ; try++ {
		out, err = runDig(args)
		// Exit 9 is "no reply": a datagram lost or late on a loaded
		// machine is not an answer, so ask again (each try waits 1s).
		var ee *exec.ExitError
		if err == nil || !errors.As(err, &ee) || ee.ExitCode() != 9 || try == digTries {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("dig %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	a, err := parseDig(string(out))
	if err != nil {
		return nil, fmt.Errorf("dig %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return a, nil
}

// digTries is how many times DigE asks when dig gets no reply at all.
const digTries = 3

func runDig(args []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "dig", args...).CombinedOutput()
}

var (
	digHeader = regexp.MustCompile(`->>HEADER<<- opcode: \w+, status: (\w+), id: \d+`)
	digFlags  = regexp.MustCompile(`^;; flags:([^;]*);`)
)

// parseDig reads dig's default output: the header line for the status, the
// flags line, and the ANSWER, AUTHORITY and ADDITIONAL sections.
func parseDig(out string) (*DNSAnswer, error) {
	a := &DNSAnswer{Raw: out}
	var sec *[]RR
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		if m := digHeader.FindStringSubmatch(line); m != nil {
			a.Status = m[1]
			continue
		}
		if m := digFlags.FindStringSubmatch(line); m != nil {
			a.Flags = strings.Fields(m[1])
			continue
		}
		switch {
		case strings.HasPrefix(line, ";; ANSWER SECTION:"):
			sec = &a.Answer
			continue
		case strings.HasPrefix(line, ";; AUTHORITY SECTION:"):
			sec = &a.Authority
			continue
		case strings.HasPrefix(line, ";; ADDITIONAL SECTION:"):
			sec = &a.Additional
			continue
		case strings.TrimSpace(line) == "":
			sec = nil
			continue
		case strings.HasPrefix(line, ";"):
			continue
		}
		if sec == nil {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 {
			return nil, fmt.Errorf("unreadable record line %q", line)
		}
		ttl, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad TTL in %q", line)
		}
		rr := RR{Name: f[0], TTL: uint32(ttl), Class: f[2], Type: f[3]}
		if len(f) > 4 {
			// Keep rdata as printed (one space between fields).
			rr.Data = strings.Join(f[4:], " ")
			if rr.Type == "TXT" {
				rr.Data = strings.TrimSpace(line[strings.Index(line, "TXT")+3:])
			}
		}
		*sec = append(*sec, rr)
	}
	if a.Status == "" {
		return nil, fmt.Errorf("no header in dig output")
	}
	return a, nil
}

// unquoteTXT turns `"a=1" "b=2"` into `a=1 b=2`.
func unquoteTXT(s string) string {
	var parts []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] != '"' {
			parts = append(parts, s)
			break
		}
		end := 1
		for end < len(s) && s[end] != '"' {
			if s[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(s) {
			parts = append(parts, s[1:])
			break
		}
		parts = append(parts, s[1:end])
		s = s[end+1:]
	}
	return strings.Join(parts, " ")
}

// TestParseDig checks the parser on dig's real output format, so a harness
// mistake cannot pass for a server bug (or hide one).
func TestParseDig(t *testing.T) {
	const out = `
; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> +norec +time=1 +tries=1 -p 5353 @127.0.0.1 nope.bg.example.test A
; (1 server found)
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 4242
;; flags: qr aa; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags:; udp: 1232
;; QUESTION SECTION:
;nope.bg.example.test.		IN	A

;; ANSWER SECTION:
_bgdns.api.bg.example.test. 5	IN	TXT	"active=blue" "version=1.0 x"
api.bg.example.test.	5	IN	A	10.0.0.12
api.bg.example.test.	5	IN	A	10.0.0.11

;; AUTHORITY SECTION:
bg.example.test.	30	IN	SOA	ns1.bg.example.test. hostmaster.bg.example.test. 17 3600 600 604800 30

;; Query time: 0 msec
;; SERVER: 127.0.0.1#5353(127.0.0.1) (UDP)
`
	a, err := parseDig(out)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != "NXDOMAIN" || !a.HasFlag("aa") || !a.HasFlag("qr") || a.HasFlag("tc") {
		t.Errorf("status %q flags %v", a.Status, a.Flags)
	}
	if got := a.Values("A"); strings.Join(got, ",") != "10.0.0.11,10.0.0.12" {
		t.Errorf("A values %v", got)
	}
	if got := a.TXT(); len(got) != 1 || got[0] != "active=blue version=1.0 x" {
		t.Errorf("TXT %q", got)
	}
	if s, ok := a.SOASerial(); !ok || s != 17 {
		t.Errorf("serial %d %v", s, ok)
	}
	if a.Authority[0].TTL != 30 || a.Authority[0].Name != "bg.example.test." {
		t.Errorf("authority %+v", a.Authority)
	}
	if _, err := parseDig(";; connection timed out; no servers could be reached\n"); err == nil {
		t.Error("a timeout parsed as an answer")
	}
}
