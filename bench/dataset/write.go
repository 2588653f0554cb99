package dataset

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteZoneFile writes the set as an RFC 1035 zone file with the active
// (blue) addresses, as NSD and Knot load it. serial is the SOA serial.
func (s *Set) WriteZoneFile(w io.Writer, serial uint32) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "$ORIGIN %s\n$TTL %d\n", s.Zone, SOATTL)
	fmt.Fprintf(bw, "@ %d IN SOA %s hostmaster.%s %d 3600 600 604800 %d\n",
		SOATTL, s.NSName(), s.Zone, serial, SOAMinimum)
	fmt.Fprintf(bw, "@ %d IN NS %s\n", SOATTL, s.NSName())
	fmt.Fprintf(bw, "%s %d IN A 127.0.0.1\n", NSHost, SOATTL)
	for _, svc := range s.Services {
		label := strings.TrimSuffix(svc.Name, "."+s.Zone)
		fmt.Fprintf(bw, "%s %d IN A %s\n", label, ServiceTTL, svc.Blue)
		if svc.HasV6() {
			fmt.Fprintf(bw, "%s %d IN AAAA %s\n", label, ServiceTTL, svc.Blue6)
		}
	}
	return bw.Flush()
}

// WriteQueries writes queries in dnsperf's input format ("name type").
func WriteQueries(w io.Writer, qs []Query) error {
	bw := bufio.NewWriter(w)
	for _, q := range qs {
		fmt.Fprintf(bw, "%s %s\n", q.Name, q.Type)
	}
	return bw.Flush()
}
