package main

import (
	"strconv"

	"github.com/spf13/pflag"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/control"
)

// aclFlags are the ACL flags of `bgdns serve`.
type aclFlags struct {
	acl bool
	set bool // --acl was given (flag, BGDNS_ACL or the config file)
	// joinToken is the token a node sends when it joins through another
	// member's API (role admin); empty means --api-token.
	joinToken string
}

// addACLFlags registers --acl (BGDNS_ACL; default on whenever TLS is on)
// and --join-token (BGDNS_JOIN_TOKEN) on f.
func addACLFlags(f *pflag.FlagSet, o *aclFlags) {
	f.VarPF(aclValue{o}, "acl", "", "require ACL tokens on every /v1 call (default: on whenever TLS is on; --acl=false turns it off)").NoOptDefVal = "true"
	f.StringVar(&o.joinToken, "join-token", "", "admin token this node sends to join through another member's API (default --api-token)")
}

// enabled reports whether ACLs are on: as given, or else on with TLS.
func (o *aclFlags) enabled(tlsOn bool) bool {
	if o.set {
		return o.acl
	}
	return tlsOn
}

// apply sets the ACL fields of the API options.
func (o *aclFlags) apply(opts *api.Options, tlsOn bool) {
	opts.ACL = o.enabled(tlsOn)
}

// clusterToken is the token for node-to-node API calls that need one
// (join): --join-token, or else --api-token.
func (o *aclFlags) clusterToken(apiToken string) string {
	if o.joinToken != "" {
		return o.joinToken
	}
	return apiToken
}

// aclValue is a bool flag that remembers whether it was set.
type aclValue struct{ o *aclFlags }

func (v aclValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	v.o.acl, v.o.set = b, true
	return nil
}

func (v aclValue) String() string {
	if v.o == nil {
		return "false"
	}
	return strconv.FormatBool(v.o.acl)
}

func (v aclValue) Type() string { return "bool" }

// aclBootstrapCommand is an ACL bootstrap with a fresh admin token, for a
// program that proposes it itself (bgdns dev, like its demo zone), and the
// token's secret to print. Only the secret's hash is in the command.
func aclBootstrapCommand(actor string) (control.Command, string) {
	id, secret := api.NewTokenSecret()
	return control.Command{Op: control.OpACLBootstrap, Actor: actor,
		Token: &control.TokenSpec{ID: id, Name: control.BootstrapTokenName, Role: control.RoleAdmin,
			SecretHash: control.HashSecret(secret)}}, secret
}
