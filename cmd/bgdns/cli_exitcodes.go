package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/client"
)

// exitCodesHelp is `bgdns help exit-codes`.
var exitCodesHelp = fmt.Sprintf(`Every client command exits with one of these codes, so that a script can
tell the failures apart:

  %d  success (also: switch --to a colour that is already active, a no-op)
  %d  usage or local error: a bad flag or argument, an unreadable -f or CA
     file, an unreadable answer
  %d  refused by the server: a 4xx other than 409 (bad request, unauthorized,
     forbidden, not found, invalid input), or a server error other than
     502, 503 and 504
  %d  wait timed out: the change is committed, but not every node confirmed
     applying it within --wait-timeout (HTTP 504 with "complete": false)
  %d  precondition failed (HTTP 409): --expect-revision, the service's state,
     the health gate, a freeze, the minimum switch interval or the retire
     watermark; or --wait-healthy / --wait-safe gave up before its gate
     passed. Nothing was changed.
  %d  server unreachable or no leader: no server of --server answered (or the
     cluster had no leader) for the whole --retry-for

On a connection error, a timeout or a 502/503/504, the client tries the
next server of --server (a comma-separated list, or BGDNS_SERVER) with
capped exponential backoff and jitter, for at most --retry-for (default
15s). Every write carries a request id (--request-id, or a random one):
a retry resends the same id and the server applies the write only once.
A failed write prints its request id on standard error; run the command
again with --request-id ID to retry it safely.
`, client.ExitOK, client.ExitLocal, client.ExitRefused, client.ExitWaitTimeout, client.ExitPrecondition, client.ExitUnavailable)

// addExitCodesTopic adds the help topic `bgdns help exit-codes`.
func addExitCodesTopic(root *cobra.Command) {
	root.AddCommand(&cobra.Command{
		Use:   "exit-codes",
		Short: "The exit codes of the client commands, and how they retry",
		Long:  exitCodesHelp,
	})
}
