// Command bgdns runs a bgdns nameserver node (serve), a local demo cluster
// (dev), and the client commands that drive the REST control plane.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
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
	root.AddCommand(newServeCmd(), newDevCmd(), newTLSCmd(), newRecoverCmd())
	addClientCommands(root)
	return root
}

func main() {
	root := newRoot()
	err := root.Execute()
	if err == nil {
		return
	}
	code := 2 // usage errors
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(code)
}
