// Command bgdns runs a bgdns nameserver node (serve), a local demo cluster
// (dev), and the client commands that drive the REST control plane.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/client"
)

// exitError carries a process exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "bgdns",
		Short:         "DNS-based blue-green deployment switcher",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newDevCmd(), newTLSCmd())
	addClientCommands(root)
	addExitCodesTopic(root)
	return root
}

func main() {
	root := newRoot()
	os.Exit(report(os.Stderr, root.Execute()))
}

// report writes err to w (with the request id of a failed write, so that
// it can be retried safely) and returns the exit code.
func report(w io.Writer, err error) int {
	if err == nil {
		return client.ExitOK
	}
	fmt.Fprintln(w, "error:", err)
	code := exitCode(err)
	switch id := client.RequestID(err); {
	case id == "":
	case code == client.ExitUnavailable:
		fmt.Fprintf(w, "request id: %s (the change may or may not have been applied: run the command again with --request-id %s, and it is applied at most once)\n", id, id)
	default:
		fmt.Fprintf(w, "request id: %s\n", id)
	}
	return code
}

// exitCode is the code of an *exitError, else the client's mapping (a
// usage error is client.ExitLocal).
func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return client.ExitCode(err)
}
