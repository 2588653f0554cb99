package main

import (
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/pki"
)

// newTLSCmd is `bgdns tls ca create` and `bgdns tls cert create`: a
// private CA and cluster member certificates (ECDSA P-256) as PEM files.
func newTLSCmd() *cobra.Command {
	root := &cobra.Command{Use: "tls", Short: "Create the cluster's CA and node certificates"}
	ca := &cobra.Command{Use: "ca", Short: "The cluster CA"}
	var caDir string
	caCreate := &cobra.Command{
		Use:   "create",
		Short: "Create a new CA (" + pki.CAFile + " and " + pki.CAKeyFile + ")",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := pki.CreateCA(caDir, time.Now()); err != nil {
				return &exitError{code: 1, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s and %s\nkeep %s secret: whoever holds it can add members to the cluster\n",
				filepath.Join(caDir, pki.CAFile), filepath.Join(caDir, pki.CAKeyFile), pki.CAKeyFile)
			return nil
		},
	}
	caCreate.Flags().StringVar(&caDir, "dir", ".", "directory for the CA files")
	ca.AddCommand(caCreate)

	cert := &cobra.Command{Use: "cert", Short: "Node certificates"}
	var req pki.CertRequest
	var ips []net.IP
	certCreate := &cobra.Command{
		Use:   "create",
		Short: "Create a node certificate signed by the CA (NAME.pem and NAME-key.pem)",
		Long: "Create a certificate for one cluster member, valid for server and client authentication,\n" +
			"for " + pki.ServerName + ", NAME." + pki.ServerName + ", localhost, 127.0.0.1, ::1 and the --ip and --dns given.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req.IPs = ips
			c, k, err := pki.CreateCert(req, time.Now())
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s and %s\nstart the node with: --tls-cert %s --tls-key %s --tls-ca %s\n",
				c, k, c, k, filepath.Join(req.CADir, pki.CAFile))
			return nil
		},
	}
	f := certCreate.Flags()
	f.StringVar(&req.CADir, "ca-dir", ".", "directory holding the CA files")
	f.StringVar(&req.OutDir, "dir", "", "directory for the certificate files (default: --ca-dir)")
	f.StringVar(&req.Name, "name", "", "node name (required), e.g. n1")
	f.IPSliceVar(&ips, "ip", nil, "IP address the node is reached at (repeatable)")
	f.StringSliceVar(&req.DNS, "dns", nil, "DNS name the node is reached at (repeatable)")
	_ = certCreate.MarkFlagRequired("name")
	cert.AddCommand(certCreate)

	root.AddCommand(ca, cert)
	return root
}
