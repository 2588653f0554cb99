package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/control"
)

func parseACLFlags(t *testing.T, env map[string]string, args ...string) *aclFlags {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	o := &aclFlags{}
	cmd := &cobra.Command{Use: "serve", RunE: func(cmd *cobra.Command, _ []string) error {
		return applyEnvAndConfig(cmd, "")
	}}
	addACLFlags(cmd.Flags(), o)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestACLFlagDefaultsToTLS(t *testing.T) {
	o := parseACLFlags(t, nil)
	if o.enabled(false) || !o.enabled(true) {
		t.Fatal("default: ACLs must follow TLS")
	}
	for _, args := range [][]string{{"--acl"}, {"--acl=true"}} {
		if o := parseACLFlags(t, nil, args...); !o.enabled(false) {
			t.Errorf("%v: ACLs off without TLS", args)
		}
	}
	if o := parseACLFlags(t, nil, "--acl=false"); o.enabled(true) {
		t.Error("--acl=false: ACLs on with TLS")
	}
	if o := parseACLFlags(t, nil); o.clusterToken("m") != "m" {
		t.Error("join token does not default to --api-token")
	}
	var opts api.Options
	parseACLFlags(t, nil, "--acl").apply(&opts, false)
	if !opts.ACL {
		t.Fatal("apply did not set Options.ACL")
	}
	// last: t.Setenv holds until the test ends
	if o := parseACLFlags(t, map[string]string{"BGDNS_ACL": "true", "BGDNS_JOIN_TOKEN": "j"}); !o.enabled(false) || o.clusterToken("m") != "j" {
		t.Errorf("from the environment: %+v", o)
	}
}

func TestACLBootstrapCommand(t *testing.T) {
	cmd, secret := aclBootstrapCommand("dev")
	b, _ := control.EncodeCommand(cmd)
	if !strings.HasPrefix(secret, api.SecretPrefix) || strings.Contains(string(b), secret) {
		t.Fatalf("secret %q, command %s", secret, b)
	}
	st, res := control.Empty().Apply(cmd, 1)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if tk := st.TokenByHash(control.HashSecret(secret)); tk == nil || tk.Role != control.RoleAdmin {
		t.Fatalf("token %+v", tk)
	}
}
