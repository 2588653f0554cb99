package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/client"
)

// A release step from Go: switch to green on any of three members, retried
// for up to a minute while a member is down or the cluster elects a
// leader, and wait until every nameserver answers green.
func Example() {
	c, err := client.New(client.Config{
		Servers:  []string{"https://ns1.example.net:8053", "https://ns2.example.net:8053", "https://ns3.example.net:8053"},
		Token:    os.Getenv("BGDNS_TOKEN"),
		CAFile:   "/etc/bgdns/bgdns-ca.pem",
		Actor:    "release-bot",
		RetryFor: time.Minute,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(client.ExitLocal)
	}
	m, _, err := c.Switch(context.Background(), "api.bg.example.com",
		api.SwitchRequest{To: "green", RequestMeta: api.RequestMeta{Reason: "2.0 passed tests"}},
		client.WriteOptions{Wait: true, WaitTimeout: 30 * time.Second})
	var ae *client.APIError
	switch {
	case errors.As(err, &ae) && ae.Service != nil && ae.Service.Active == "green":
		fmt.Println("green is already active")
	case err != nil:
		fmt.Fprintf(os.Stderr, "switch: %v (request id %s)\n", err, client.RequestID(err))
		os.Exit(client.ExitCode(err))
	default:
		fmt.Printf("switched at index %d\n", m.Index)
	}
}
