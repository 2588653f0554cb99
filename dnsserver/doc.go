// Package dnsserver is bgdns's authoritative nameserver. It answers every
// query from one loaded *control.State (lock-free, no network hop), over UDP
// and TCP on the same port: the live, blue, green and preview names of
// each service, the _bgdns TXT record, the zone apex SOA and NS with glue,
// NXDOMAIN vs NODATA with the SOA, REFUSED outside our zones, EDNS0,
// truncation, minimal ANY, case echo.
//
// It is also a hidden primary for standard secondaries: AXFR (and IXFR
// answered with the full zone) for TSIG-signed or allow-listed clients, and
// NOTIFY to configured targets whenever a zone serial moves on.
//
// Layout, one concern per file:
//
//	config.go   Config, defaults and validation
//	server.go   Server: Start, Addr, Shutdown, StateChanged
//	listen.go   binding UDP and TCP on the same port
//	udp.go      udpReaders, the one seam of the UDP read strategies, and the
//	            portable one: goroutines reading one net.PacketConn
//	udp_other.go         where there are no reader threads: the portable loop
//	udp_thread_linux.go  Linux (amd64, arm64): readers as OS threads of their
//	            own, each waiting in its own epoll set and keeping a Go
//	            processor (Config.ReaderProcs: the caller owns GOMAXPROCS)
//	udp_sched_linux.go   their time slice and priority
//	replycache.go        the UDP fast path: the handler's own earlier replies, reused
//	udp_batch_linux.go   recvmmsg/sendmmsg batches of the reader threads
//	udp_sockopt_*.go     the UDP socket's receive buffer
//	tcp.go      the TCP accept loop and RFC 7766 connection handling: the
//	            connection caps, and NSD's short idle timeout when busy
//	handler.go  one packet in, reply out: header checks, EDNS, TSIG, RRL, packing
//	resolve.go  Resolve: the pure answer for one query from one State
//	lookup.go   names inside a zone (services, colours, preview, TXT, apex, NS hosts)
//	records.go  building resource records
//	negative.go NXDOMAIN and NODATA with the SOA
//	edns.go     EDNS0: sizes, BADVERS, NSID
//	stale.go    StaleSource and the marking of stale answers (EDE 3, TTL cap)
//	chaos.go    id.server and hostname.bind (refused with HideIdentity)
//	tsig.go     TSIG keys, verification and signing
//	xfr.go      AXFR and IXFR
//	notify.go   NOTIFY on serial changes
//	rrl.go      response rate limiting (on by default, 200/s per prefix)
//
// No line is logged per query.
package dnsserver
